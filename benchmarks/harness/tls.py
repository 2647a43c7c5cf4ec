"""TLS for the HTTPS and HTTP/2 sections: a throwaway CA and server certificate, a verifying probe, nginx's accepts."""
import os
import re
import socket

from .proc import run_simple

HTTPS_RECONNECT_EVERY = 100  # keepalive_requests of the reconnect server


def make_tls_files(d):
    """A throwaway CA and a server certificate for 127.0.0.1 (EC P-256, SAN IP:127.0.0.1) in d.

    Returns None, or why it could not be done. Files: ca.pem (what luaload trusts),
    server.pem + server.key (what nginx serves)."""
    def p(name):
        return os.path.join(d, name)
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    steps = [
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p("ca.key")],
        ["openssl", "req", "-x509", "-new", "-key", p("ca.key"), "-sha256", "-days", "2",
         "-subj", "/CN=luaload benchmark throwaway CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-out", p("ca.pem")],
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p("server.key")],
        ["openssl", "req", "-new", "-key", p("server.key"), "-subj", "/CN=127.0.0.1", "-out", p("server.csr")],
        ["openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
         "-CAcreateserial", "-days", "2", "-sha256", "-extfile", p("server.ext"), "-out", p("server.pem")],
        ["openssl", "verify", "-CAfile", p("ca.pem"), p("server.pem")],
    ]
    for cmd in steps:
        rc, out = run_simple(cmd, 30)
        if rc != 0:
            return "%s failed (rc %s): %s" % (" ".join(cmd[:2]), rc, out.strip()[-300:])
    return None


def https_get(port, path, cafile, timeout=2.0):
    """(status, body) of GET path over TLS, verifying against cafile; (None, error) on failure."""
    import ssl
    try:
        ctx = ssl.create_default_context(cafile=cafile)
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                proto = s.version()
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return (int(m.group(1)) if m else None), data.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace"), proto
    except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
        return None, str(e), None


def nginx_accepts(port, cafile):
    """nginx's `accepts` counter (connections accepted, all servers) from stub_status, or None."""
    status, body, _ = https_get(port, "/nginx_status", cafile)
    m = re.search(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s*$", body or "", re.M) if status == 200 else None
    return int(m.group(1)) if m else None

