"""A real SMTP server for the tests: Debian's aiosmtpd on 127.0.0.1, on a port the OS picks.

It prints one JSON object per line on stdout:
  {"event": "ready", "port": N}
  {"event": "starttls"} / {"event": "auth", "tls": bool}   as the client issues them
  {"event": "message", "accepted": true, ...}   one per DATA, decoded by Python's own
                                                email package (independent of lettre)
Options:
  --tls-cert F --tls-key F   offer STARTTLS with this certificate
  --implicit-tls             TLS from the first byte (SMTPS) instead of STARTTLS
  --auth USER:PASSWORD       accept AUTH PLAIN/LOGIN with these credentials only
  --stall-first N            record the first N messages but never answer their DATA (a
                             server that hangs after receiving: the sender cannot know
                             whether the message was taken)
Run as: python3 smtpd.py [options]; it stops when stdin closes or on SIGTERM/SIGKILL.
"""

import argparse
import asyncio
import email
import email.policy
import json
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def decoded(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({"content_type": part.get_content_type(),
                      "charset": part.get_content_charset(),
                      "transfer_encoding": part.get("Content-Transfer-Encoding"),
                      "text": part.get_content()})
    return {
        "subject": str(msg.get("Subject", "")),
        "from": str(msg.get("From", "")),
        "to": [str(a) for a in msg.get("To", "").addresses] if msg.get("To") else [],
        "message_id": str(msg.get("Message-ID", "")),
        "date": str(msg.get("Date", "")),
        "content_type": msg.get_content_type(),
        "parts": parts,
        "defects": [type(d).__name__ for d in msg.defects],
    }


class RecordingSMTP(SMTP):
    """Also reports STARTTLS and AUTH as they happen, so a test can check that the
    client upgraded the connection before it sent its credentials."""

    async def smtp_STARTTLS(self, arg):
        emit({"event": "starttls"})
        return await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg):
        emit({"event": "auth", "tls": self.session.ssl is not None})
        return await super().smtp_AUTH(arg)


class Handler:
    def __init__(self, stall):
        self.stall = stall

    async def handle_DATA(self, server, session, envelope):
        stalled = self.stall > 0
        if stalled:
            self.stall -= 1
        login = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", "replace")
        out = {"event": "message", "accepted": not stalled, "mail_from": envelope.mail_from,
               "rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None,
               "auth_login": login, "helo": session.host_name}
        out.update(decoded(envelope.original_content or envelope.content))
        emit(out)
        if stalled:
            await asyncio.sleep(3600)
        return "250 2.0.0 OK queued"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--auth")
    ap.add_argument("--stall-first", type=int, default=0)
    args = ap.parse_args()

    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

    authenticator = None
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login == user.encode() and auth_data.password == password.encode())
            # handled=False: aiosmtpd then sends the 235 / 535 reply itself.
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    handler = Handler(args.stall_first)
    loop = asyncio.new_event_loop()

    def factory():
        return RecordingSMTP(handler, hostname="smtpd.test", enable_SMTPUTF8=True,
                    tls_context=None if args.implicit_tls else ctx,
                    authenticator=authenticator, auth_require_tls=False,
                    loop=loop)

    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=ctx if args.implicit_tls else None))
    emit({"event": "ready", "port": server.sockets[0].getsockname()[1]})

    # Stop when the test's end of stdin closes (the test died without killing us).
    def stdin_closed():
        if not sys.stdin.buffer.read1(1):
            loop.stop()
    loop.add_reader(sys.stdin.fileno(), stdin_closed)
    loop.run_forever()


if __name__ == "__main__":
    main()
