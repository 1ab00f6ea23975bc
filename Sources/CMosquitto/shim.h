#ifndef API2MQTT_CMOSQUITTO_SHIM_H
#define API2MQTT_CMOSQUITTO_SHIM_H
// libmosquitto 2.0 (Debian libmosquitto-dev): the client API and the MQTT 5
// property / reason-code constants. Nothing but includes: all logic is Swift.
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
