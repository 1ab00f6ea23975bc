#ifndef API2MQTT_CMOSQUITTO_SHIM_H
#define API2MQTT_CMOSQUITTO_SHIM_H
// libmosquitto 2.0 (Debian libmosquitto-dev): the client API and the MQTT 5
// property / reason-code constants; and, for the client's network thread, the Linux
// calls that Swift's Glibc module does not bring (eventfd; prctl, variadic, behind a
// one-line wrapper). All logic is Swift.
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

/// Names the calling thread (at most 15 characters), as `top` and `/proc/.../comm` show it.
static inline void api2mqtt_name_current_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
#endif
