"""SunSpec batteries over Modbus TCP: model definitions, register images, scanner, driver, simulator.

The driver is chosen by the registry for `modbus+tcp://host:port/unit` addresses; the simulator
speaks the same protocol so tests and demos exercise the real client code.
"""
