#!/usr/bin/python3
# A real SMTP server (aiosmtpd) for the perf-alert tests: each accepted
# message is written to DIR/N.eml. While the file DIR/reject451 exists the
# final reply to DATA is "451 try again later", which must be retried.
import os
import signal
import sys

from aiosmtpd.controller import Controller

port, outdir = int(sys.argv[1]), sys.argv[2]


class Handler:
    n = 0

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(outdir, "reject451")):
            return "451 4.3.0 try again later"
        Handler.n += 1
        path = os.path.join(outdir, "%d.eml" % Handler.n)
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Rcpt: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
signal.pause()
