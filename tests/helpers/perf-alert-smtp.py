#!/usr/bin/python3
# A real SMTP server (aiosmtpd) for the perf-alert tests: each accepted
# message is written to DIR/N.eml. While the file DIR/reject451 exists the
# final reply to DATA is "451 try again later", which must be retried.
# usage: perf-alert-smtp.py PORT DIR [USER:PASSWORD [CERT KEY]]
# With USER:PASSWORD, AUTH is required and checked; with CERT and KEY,
# STARTTLS is required before anything else.
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, outdir = int(sys.argv[1]), sys.argv[2]
cred = sys.argv[3] if len(sys.argv) > 3 else None


class Handler:
    n = 0

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(outdir, "reject451")):
            return "451 4.3.0 try again later"
        Handler.n += 1
        path = os.path.join(outdir, "%d.eml" % Handler.n)
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Rcpt: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(("X-Auth: %s\r\n" % (session.authenticated and "yes" or "no")).encode())
            f.write(("X-TLS: %s\r\n" % (session.ssl and "yes" or "no")).encode())
            f.write(envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


def check(server, session, envelope, mechanism, auth_data):
    ok = cred is not None and \
        (auth_data.login + b":" + auth_data.password).decode() == cred
    return AuthResult(success=ok)


kw = {}
if cred is not None:
    kw.update(authenticator=check, auth_required=True, auth_require_tls=False)
if len(sys.argv) > 5:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    kw.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
c = Controller(Handler(), hostname="127.0.0.1", port=port, **kw)
c.start()
signal.pause()
