"""An HTTP/2 (h2c) server that answers GOAWAY to requests, built on the `h2` library (PyPI, hypercorn's).

Usage: h2_goaway.py PORT MODE LOG. MODE "first": the first request the server receives gets GOAWAY with
last_stream_id 0 (the request was not processed) and the connection closes; every later request is answered
200 "ok". MODE "always": every request gets that GOAWAY. MODE "stall": the server's SETTINGS give a window of 0 and it
never opens it, so no request body can be sent (and no request is answered). MODE "reset": a request to /reset
gets RST_STREAM(PROTOCOL_ERROR), the others are answered. Each event is appended to LOG: "goaway", "served",
"reset" or "headers" (stall: a request's HEADERS arrived).
"""
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events
import h2.settings

port, mode, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
goaways = [0]


def note(what):
    with lock, open(log, "a") as f:
        f.write(what + "\n")


def serve(sock):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    if mode == "stall":
        conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    sock.sendall(conn.data_to_send())
    while True:
        data = sock.recv(65536)
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived) and mode == "stall":
                note("headers")
            elif isinstance(event, h2.events.RequestReceived) and mode == "reset" and dict(event.headers)[b":path"] == b"/reset":
                conn.reset_stream(event.stream_id, error_code=1)
                note("reset")
            elif isinstance(event, h2.events.RequestReceived):
                with lock:
                    refuse = mode == "always" or (mode == "first" and goaways[0] == 0)
                    goaways[0] += refuse
                if refuse:
                    note("goaway")   # before the client can see it: its retry's "served" must come after
                    conn.close_connection(error_code=0, last_stream_id=0)
                    sock.sendall(conn.data_to_send())
                    sock.close()
                    return
                conn.send_headers(event.stream_id, [(":status", "200"), ("content-length", "3")])
                conn.send_data(event.stream_id, b"ok\n", end_stream=True)
                note("served")
        sock.sendall(conn.data_to_send())
    sock.close()


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(64)
while True:
    s, _ = listener.accept()
    threading.Thread(target=serve, args=(s,), daemon=True).start()
