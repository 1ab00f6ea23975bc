"""The baseline of `Benchmarks/run-footprint han`: a plain Python asyncio bridge doing
api2mqtt's cozify_han job (never shipped; benchmark tooling only).

aiohttp reads the HAN reader's /sse stream (reconnecting with Last-Event-ID) and polls
/han and /health every 60 s, /meter/id and /configuration every hour, like the cozify_han
adapter. Each telegram becomes the device's JSON state with the same keys, units and
precision as Mappings/cozify_han.yaml (a flat object merged with the polled documents),
published with paho-mqtt (threaded network loop, as libmosquitto runs in api2mqtt) on
<base>/<device>, QoS 0, retained, plus the text entity's own topic. At start it publishes
retained Home Assistant discovery for those keys, availability online (offline as its will)
and subscribes to the command topics. SIGTERM: offline, disconnect, print a count, exit 0.

Usage: python han_bridge.py --url http://127.0.0.1:P --mqtt-port N [--base pybridge]
"""

import argparse
import asyncio
import datetime
import json
import signal

import aiohttp
import paho.mqtt.client as mqtt

# Flat state key → (telegram field, index or None, decimals); the mapping's `from:` lists.
METER = {
    "power_import": ("pi", 0, 0), "power_import_l1": ("pi", 1, 0),
    "power_import_l2": ("pi", 2, 0), "power_import_l3": ("pi", 3, 0),
    "power_export": ("pe", 0, 0), "power_export_l1": ("pe", 1, 0),
    "power_export_l2": ("pe", 2, 0), "power_export_l3": ("pe", 3, 0),
    "reactive_power_import": ("ri", 0, 0), "reactive_power_import_l1": ("ri", 1, 0),
    "reactive_power_import_l2": ("ri", 2, 0), "reactive_power_import_l3": ("ri", 3, 0),
    "reactive_power_export": ("re", 0, 0), "reactive_power_export_l1": ("re", 1, 0),
    "reactive_power_export_l2": ("re", 2, 0), "reactive_power_export_l3": ("re", 3, 0),
    "voltage_l1": ("u", 0, 1), "voltage_l2": ("u", 1, 1), "voltage_l3": ("u", 2, 1),
    "current_l1": ("i", 0, 2), "current_l2": ("i", 1, 2), "current_l3": ("i", 2, 2),
    "energy_import": ("ic", None, 3), "energy_export": ("ec", None, 3),
    "reactive_energy_import": ("ric", None, 3), "reactive_energy_export": ("rec", None, 3),
}
FALLBACK = {"pi": "p", "ri": "r"}  # firmware before pi / ri


def number(value, decimals):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    rounded = round(float(value), decimals)
    return int(rounded) if decimals == 0 else rounded


def map_meter(doc):
    state = {}
    for key, (field, index, decimals) in METER.items():
        value = doc.get(field)
        if value is None and field in FALLBACK:
            value = doc.get(FALLBACK[field])
        if index is not None:
            value = value[index] if isinstance(value, list) and len(value) > index else None
        value = number(value, decimals)
        if key.startswith("voltage") and value == 0:
            value = None  # bus loss or a phase the meter does not have
        state[key] = value
    ts = doc.get("ts")
    if isinstance(ts, (int, float)):
        seconds = ts / 1000 if ts > 1e11 else ts  # `epoch: auto`
        state["last_telegram"] = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc) \
            .isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return state


def map_polled(endpoint, doc):
    if endpoint == "han":
        eth = doc.get("ethIp")
        return {"firmware": doc.get("version"), "firmware_channel": doc.get("channel"),
                "mac_address": doc.get("mac"), "online": doc.get("online"),
                "reader_serial": doc.get("serial"), "reader_state": doc.get("state"),
                "wifi_ip": doc.get("wifiIp"), "ethernet_ip": None if eth in (None, "0.0.0.0") else eth}
    if endpoint == "health":
        uptime = doc.get("uptime_ms")
        return {"hostname": doc.get("hostname"), "free_heap": doc.get("free_heap_size"),
                "minimum_free_heap": doc.get("minimum_free_heap_size"),
                "reset_reason": doc.get("cpu_reset_reason"),
                "uptime": None if uptime is None else round(uptime / 1000)}
    if endpoint == "meter_id":
        return {"meter_device_type": doc.get("deviceType"), "meter_id": doc.get("meterId"),
                "meter_manufacturer": doc.get("manufacturerId"), "meter_model": doc.get("meterName")}
    if endpoint == "configuration":
        wifi, eth = doc.get("w") or {}, doc.get("e") or {}
        return {"ethernet_enabled": eth.get("e"), "fixed_price": doc.get("p"),
                "main_fuse": (doc.get("m") or {}).get("f"), "spot_price": doc.get("s"),
                "timezone": doc.get("t"), "wifi_enabled": wifi.get("e"), "wifi_ssid": wifi.get("s")}
    return {}


POLLS = {"meter_id": ("/meter/id", 3600), "han": ("/han", 60), "health": ("/health", 60),
         "configuration": ("/configuration", 3600)}


class Bridge:
    def __init__(self, args):
        self.url, self.base, self.device = args.url.rstrip("/"), args.base, args.device
        self.topic = f"{self.base}/{self.device}"
        self.state = {}
        self.published = 0
        self.mqtt = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{self.base}-{self.device}")
        self.mqtt.will_set(f"{self.base}/bridge/state", "offline", qos=1, retain=True)
        self.mqtt.on_connect = self.on_connect
        self.mqtt.on_message = lambda client, userdata, message: None  # commands: not exercised here
        self.mqtt.connect_async("127.0.0.1", args.mqtt_port)
        self.mqtt.loop_start()

    def on_connect(self, client, userdata, flags, reason, properties):
        client.publish(f"{self.base}/bridge/state", "online", qos=1, retain=True)
        client.publish(f"{self.topic}/availability", "online", qos=1, retain=True)
        client.subscribe(f"{self.topic}/+/set", qos=1)
        for key in list(METER) + ["last_telegram"]:
            config = {"name": key.replace("_", " ").capitalize(), "unique_id": f"{self.base}_{self.device}_{key}",
                      "state_topic": self.topic, "value_template": f"{{{{ value_json.{key} }}}}",
                      "availability_topic": f"{self.topic}/availability",
                      "device": {"identifiers": [f"{self.base}_{self.device}"], "name": "HAN (Python)"}}
            client.publish(f"homeassistant/sensor/{self.base}_{self.device}/{key}/config",
                           json.dumps(config), qos=1, retain=True)

    def publish_state(self):
        self.mqtt.publish(self.topic, json.dumps(self.state, sort_keys=True, separators=(",", ":")), qos=0, retain=True)
        self.published += 1

    async def poll(self, session, endpoint, path, every):
        while True:
            try:
                async with session.get(self.url + path, timeout=aiohttp.ClientTimeout(total=10)) as response:
                    if response.status == 200:
                        self.state.update(map_polled(endpoint, await response.json(content_type=None)))
                        if endpoint == "configuration" and self.state.get("timezone") is not None:
                            self.mqtt.publish(f"{self.topic}/timezone", self.state["timezone"], qos=0, retain=True)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                pass
            await asyncio.sleep(every)

    async def stream(self, session):
        last_id = None
        while True:
            headers = {"Accept": "text/event-stream"}
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=60)
                async with session.get(self.url + "/sse", headers=headers, timeout=timeout) as response:
                    event, data = None, []
                    async for raw in response.content:
                        line = raw.decode("utf-8", "replace").rstrip("\r\n")
                        if not line:
                            if data:
                                self.on_event(event, "\n".join(data))
                            event, data = None, []
                        elif line.startswith(":"):
                            continue
                        else:
                            field, _, value = line.partition(":")
                            value = value[1:] if value.startswith(" ") else value
                            if field == "data":
                                data.append(value)
                            elif field == "event":
                                event = value
                            elif field == "id":
                                last_id = value
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(1)

    def on_event(self, event, data):
        try:
            doc = json.loads(data)
        except ValueError:
            return
        kind = doc.get("type", event)
        if kind == "HAN_METER_MESSAGE":
            self.state.update(map_meter(doc))
            self.publish_state()
        elif kind == "HAN_STATE_MESSAGE":
            self.state.update(map_polled("han", doc))

    async def run(self):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        async with aiohttp.ClientSession() as session:
            tasks = [asyncio.create_task(self.poll(session, name, path, every)) for name, (path, every) in POLLS.items()]
            tasks.append(asyncio.create_task(self.stream(session)))
            await stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.mqtt.publish(f"{self.topic}/availability", "offline", qos=1, retain=True)
        self.mqtt.publish(f"{self.base}/bridge/state", "offline", qos=1, retain=True).wait_for_publish(2)
        self.mqtt.disconnect()
        self.mqtt.loop_stop()
        print(f"published {self.published} states", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--mqtt-port", type=int, required=True)
    parser.add_argument("--base", default="pybridge")
    parser.add_argument("--device", default="han")
    asyncio.run(Bridge(parser.parse_args()).run())


if __name__ == "__main__":
    main()
