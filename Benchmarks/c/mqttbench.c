/*
 * Baseline for the publish-throughput benchmark: libmosquitto used directly from C.
 *
 *   mqttbench sub <port> <topic> <qos> <count>        counts arrivals; prints
 *                                                    "ready" once subscribed, then
 *                                                    "done <first_ns> <last_ns>";
 *                                                    retained messages are not counted
 *   mqttbench pub <port> <topic> <qos> <count> <size> publishes <count> messages as fast
 *                                                    as libmosquitto takes them, waits for
 *                                                    every acknowledgement (QoS 1), exits
 *
 * Built by Benchmarks/run-mosquitto-benchmark; not part of the product.
 */
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long received = 0;
static atomic_long acknowledged = 0;
static atomic_int subscribed = 0;
static atomic_int connected = 0;
static long expected = 0;
static long long first_ns = 0, last_ns = 0;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_connect(struct mosquitto *m, void *obj, int rc) { (void)m; (void)obj; if (rc == 0) connected = 1; }
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *q) {
    (void)m; (void)obj; (void)mid; (void)n; (void)q; subscribed = 1;
}
static long long latest_ns = 0;
static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg) {
    (void)m; (void)obj;
    /* A retained message delivered because of the subscription was published before the
     * measurement started (the core benchmark's warm-up): live ones arrive with retain 0. */
    if (msg->retain) return;
    long n = ++received;
    latest_ns = now_ns();
    if (n == 1) first_ns = latest_ns;
    if (n == expected) last_ns = latest_ns;
}
static void on_publish(struct mosquitto *m, void *obj, int mid) { (void)m; (void)obj; (void)mid; ++acknowledged; }

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: see source\n"); return 2; }
    const char *mode = argv[1];
    int port = atoi(argv[2]);
    const char *topic = argv[3];
    int qos = atoi(argv[4]);
    expected = atol(argv[5]);
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(NULL, true, NULL);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_publish_callback_set(m, on_publish);
    if (mosquitto_connect_async(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    mosquitto_loop_start(m);
    while (!connected) usleep(1000);
    long long deadline = now_ns() + 120LL * 1000000000LL;
    if (strcmp(mode, "sub") == 0) {
        mosquitto_subscribe(m, NULL, topic, qos);
        while (!subscribed) usleep(1000);
        printf("ready\n");
        fflush(stdout);
        /* Stop at the expected count, at the deadline, or after 5 s without a message. */
        long seen = 0;
        long long quiet_since = now_ns();
        while (received < expected && now_ns() < deadline) {
            usleep(1000);
            if (received != seen) { seen = received; quiet_since = now_ns(); }
            else if (seen > 0 && now_ns() - quiet_since > 5000000000LL) break;
        }
        if (last_ns == 0) last_ns = latest_ns; /* incomplete: span up to the last message */
        printf("done %lld %lld %ld\n", first_ns, last_ns, (long)received);
    } else {
        int size = argc > 6 ? atoi(argv[6]) : 100;
        char *payload = malloc((size_t)size);
        memset(payload, 'x', (size_t)size);
        for (long i = 0; i < expected; i++) mosquitto_publish(m, NULL, topic, size, payload, qos, false);
        /* QoS 0 counts writes too (on_publish fires once the packet is written). */
        while (acknowledged < expected && now_ns() < deadline) usleep(1000);
        free(payload);
    }
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return 0;
}
