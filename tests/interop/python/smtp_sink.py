"""A test SMTP relay (aiosmtpd) that stores every accepted mail as an .eml file.

Usage: python smtp_sink.py --port P --dir OUT [--fail-first-4xx N] [--reject-rcpt-5xx ADDR]
                           [--close-after-first-noop]

- every accepted mail is written to OUT/NNNN.eml (NNNN = 0001, 0002, ... in order of
  acceptance), written to a temporary name first and renamed, so a reader never sees half a
  file. The file starts with three sink headers, then the mail exactly as received:
    X-Sink-Mail-From: <envelope sender>
    X-Sink-Rcpt-To: <envelope recipients, comma separated>   (bcc recipients show up here only)
    X-Sink-Peer: <client ip:port>                             (same port = same TCP connection)
- --fail-first-4xx N: the first N DATA commands are answered "451 4.3.0 sink: try again later"
- --reject-rcpt-5xx ADDR: RCPT TO ADDR (case-insensitive) is answered "550 5.1.1 sink: no such user"
- --close-after-first-noop: the first NOOP is answered 250 and then the connection is closed,
  as a relay closing an idle connection just after a client's liveness check (lettre#743:
  the client's next command reads EOF, "incomplete response")
- prints "listening on 127.0.0.1:P" (flushed) once the server accepts connections.
"""

import argparse
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP, syntax


class SinkSMTP(SMTP):
    close_after_noop = [False]

    @syntax("NOOP [ignored]")
    async def smtp_NOOP(self, arg):
        await self.push("250 OK")
        if self.close_after_noop[0]:
            self.close_after_noop[0] = False
            # Let the 250 reach the client, then send FIN (no 421): the client's next
            # command reads EOF. Its unread command is never answered; a full close right
            # away would turn that unread data into a RST instead of a clean EOF.
            await asyncio.sleep(0.05)
            self.transport.write_eof()
            await asyncio.sleep(1)
            self.transport.abort()


class SinkHandler:
    def __init__(self, out_dir, fail_first_4xx, reject_rcpt):
        self.out_dir = out_dir
        self.fail_left = fail_first_4xx
        self.reject_rcpt = reject_rcpt.lower() if reject_rcpt else None
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and address.lower() == self.reject_rcpt:
            return "550 5.1.1 sink: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 sink: try again later"
        self.count += 1
        peer = session.peer
        head = (
            f"X-Sink-Mail-From: {envelope.mail_from}\r\n"
            f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Sink-Peer: {peer[0]}:{peer[1]}\r\n"
        ).encode("utf-8")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        name = os.path.join(self.out_dir, f"{self.count:04d}.eml")
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            f.write(head + content)
        os.replace(tmp, name)
        return "250 2.0.0 sink: stored"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail-first-4xx", type=int, default=0)
    parser.add_argument("--reject-rcpt-5xx", default=None)
    parser.add_argument("--close-after-first-noop", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = SinkHandler(args.dir, args.fail_first_4xx, args.reject_rcpt_5xx)
    SinkSMTP.close_after_noop[0] = args.close_after_first_noop
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SinkSMTP(handler, decode_data=False, enable_SMTPUTF8=True, hostname="sink.test"),
        host="127.0.0.1",
        port=args.port,
    )
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
