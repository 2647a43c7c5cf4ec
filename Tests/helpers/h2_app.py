"""ASGI app for the HTTP/2 tests under hypercorn (a Python HTTP/2 server nobody here wrote).

Every request appends "HTTP/<version> <path>" to the file named by $H2_APP_LOG, so the test counts what the
server received and over which protocol. /health answers "ok"; /echo answers "<method>|<body length>|<cookie>";
/slow?i=K sleeps 100 ms and answers "K" (http.batch's parallelism); /inflight sleeps 100 ms and answers how
many /inflight requests the server had in flight when it began, itself included (--h2-pool's stream limit).
/redir?n=K redirects (302) to /redir?n=K-1 and answers "done" at 0 (with &slow=1, each redirect after 100 ms);
/away?to=URL redirects to URL; /noloc is a 302 without a Location.
"""
import asyncio
import os

LOG = os.environ["H2_APP_LOG"]
inflight = [0]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            break
    with open(LOG, "a") as f:
        f.write("HTTP/%s %s\n" % (scope["http_version"], scope["path"]))
    query = scope["query_string"].decode()
    status = 200
    if scope["path"] == "/inflight":
        inflight[0] += 1
        text = "%d" % inflight[0]
        await asyncio.sleep(0.1)
        inflight[0] -= 1
        headers = [(b"content-type", b"text/plain")]
    elif scope["path"] == "/redir" and int(query.partition("n=")[2].partition("&")[0] or 0) > 0:
        status, text = 302, ""
        n = int(query.partition("n=")[2].partition("&")[0])
        if "slow=1" in query:
            await asyncio.sleep(0.1)
        headers = [(b"location", b"/redir?n=%d%s" % (n - 1, b"&slow=1" if "slow=1" in query else b""))]
    elif scope["path"] == "/away":
        status, text = 302, ""
        headers = [(b"location", query.partition("to=")[2].encode())]
    elif scope["path"] == "/noloc":
        status, text, headers = 302, "", []
    elif scope["path"] == "/redir":
        text, headers = "done", [(b"content-type", b"text/plain")]
    elif scope["path"] == "/slow":
        await asyncio.sleep(0.1)
        text = query.partition("i=")[2]
        headers = [(b"content-type", b"text/plain")]
    elif scope["path"] == "/echo":
        cookie = dict(scope["headers"]).get(b"cookie", b"").decode()
        text = "%s|%d|%s\n" % (scope["method"], len(body), cookie)
        headers = [(b"content-type", b"text/plain")]
    else:
        text = "ok\n"
        headers = [(b"content-type", b"text/plain"), (b"set-cookie", b"hc=1; Path=/")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text.encode()})
