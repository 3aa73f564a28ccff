#!/usr/bin/python3
"""The asyncio herd: the baseline `make bench` measures the herd against.

The herd replaces the proxy herd that CS 131 students write in Python with asyncio,
so the bench runs one of those beside it, built the way the course describes: one
process per server, the client protocol on each server's port, every new record
flooded to the neighbours, every log line flushed as it is written, and

  * plain (the default): a new TCP connection to a neighbour for each flood message;
  * HERD_PERSISTENT=1 (the tuned variant): one connection per neighbour, kept open.

Servers talk to each other on the same port as clients: a server floods the AT line
itself, and a line starting with "AT" is taken as a flood (as in the course's
design), so it cannot be mixed with herd servers in one topology.

    HERD_TOPOLOGY=topologies/cs131-spring21.json /usr/bin/python3 asyncio_herd.py Riley

Environment:
  HERD_TOPOLOGY    the herd's topology file (nodes: name, port, optional host; links)
  HERD_PERSISTENT  1: one kept connection per neighbour instead of one per message
  HERD_PORT_BASE   when set, node i of the topology listens on HERD_PORT_BASE + i
  HERD_PLACES_URL  the Nearby Search endpoint (default: Google's); key: GOOGLE_API_KEY
  HERD_LOG_DIR     where NAME.log is written (default: the current directory)

Only WHATSAT needs aiohttp (for Places), and it is imported when first needed;
without it, IAMAT and flooding work and WHATSAT answers with an UNKNOWN_ERROR body.
Runs with Debian 12's /usr/bin/python3 (3.11) and its standard library.
"""
import asyncio
import json
import os
import re
import signal
import sys
import time

PLACES_URL = "https://maps.googleapis.com/maps/api/place/nearbysearch/json"
PLACES_TIMEOUT_S = 10       # As the herd's: a WHATSAT is answered by then, whatever Places does.
LINE_BYTES_MAX = 64 * 1024  # A longer line closes the connection.
OWED_REPLIES_MAX = 1024     # Per client: past it, the connection is not read until one is sent.
RECORDS_MAX = 2_000_000     # Clients a server keeps; past it, a new one is refused ("?").
FLOOD_QUEUE_MAX = 10_000    # Persistent variant, per neighbour (see flood()).
FLOOD_BATCH_MAX = 1_000     # Persistent variant: messages per write.
# A SYN dropped by a neighbour's full accept queue is sent again after 1 s, then 3 s:
# a flood gives up (and is logged as dropped) only after that.
CONNECT_TIMEOUT_S = 10
# As the herd's: with asyncio's default (100), a burst of flood connections overflows
# the queue, and each SYN dropped costs its sender a 1 s retransmission.
LISTEN_BACKLOG = 1024

LOCATION = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
TIME = re.compile(r"([+-]?)(\d+)(?:\.(\d*))?")


def parse_time_ns(text):
    """POSIX seconds as exact integer nanoseconds (a float would lose the ninth digit)."""
    m = TIME.fullmatch(text)
    if not m:
        return None
    ns = int(m.group(2)) * 1_000_000_000 + int(((m.group(3) or "") + "0" * 9)[:9])
    return -ns if m.group(1) == "-" else ns


def parse_location(text):
    m = LOCATION.fullmatch(text)
    if not m or abs(float(m.group(1))) > 90 or abs(float(m.group(2))) > 180:
        return None
    return m.group(1), m.group(2)


def time_diff(now_ns, client_ns):
    """now - client as the AT line's "+0.263873386": sign, seconds, nine decimals."""
    d = now_ns - client_ns
    return "%s%d.%09d" % ("+" if d >= 0 else "-", abs(d) // 1_000_000_000, abs(d) % 1_000_000_000)


def error_body(reason):
    body = {"html_attributions": [], "results": [], "status": "UNKNOWN_ERROR",
            "error_message": reason}
    return json.dumps(body, indent=3, separators=(",", " : "))


class Record:
    """A client's newest AT line, with the fields a server needs from it."""

    def __init__(self, line, fields):
        self.line = line
        self.location = fields[4]
        self.time_ns = parse_time_ns(fields[5])


class Server:
    def __init__(self, name, topology, port_base):
        nodes = topology["nodes"]
        index = {n["name"]: i for i, n in enumerate(nodes)}
        if name not in index:
            sys.exit("asyncio herd: no server %r in the topology" % name)

        def address(n):
            port = n["port"] if port_base is None else port_base + index[n["name"]]
            return n.get("host", "127.0.0.1"), port

        self.name = name
        self.address = address(nodes[index[name]])
        neighbours = sorted({b if a == name else a for a, b in topology["links"] if name in (a, b)})
        self.neighbours = {n: address(nodes[index[n]]) for n in neighbours}
        self.persistent = os.environ.get("HERD_PERSISTENT") == "1"
        # Persistent variant: what waits for each neighbour's one connection.
        self.queues = {}
        if self.persistent:
            self.queues = {n: asyncio.Queue(FLOOD_QUEUE_MAX) for n in neighbours}
        self.records = {}
        self.places = None  # The aiohttp session, made at the first WHATSAT.
        self.places_missing = None  # Why there is no session, once known.
        log_dir = os.environ.get("HERD_LOG_DIR", ".")
        self.log_file = open(os.path.join(log_dir, name + ".log"), "a", encoding="utf-8")

    def log(self, text):
        # Flushed line by line, as the course's servers do: a crash loses nothing.
        self.log_file.write("%.6f %s\n" % (time.time(), text))
        self.log_file.flush()

    # --- clients (and neighbours, whose floods arrive as AT lines) ------------------

    async def serve(self, reader, writer):
        who = "%s:%s" % (writer.get_extra_info("peername") or ("?", "?"))[:2]
        self.log("connection from " + who)
        owed = asyncio.Queue(OWED_REPLIES_MAX)  # Replies in request order: text or a task.
        sender = asyncio.create_task(self.send_replies(owed, writer, who))
        try:
            while True:
                try:
                    raw = await reader.readline()
                except (ValueError, ConnectionError):  # ValueError: a line past the limit.
                    break
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.log("from %s: %s" % (who, line))
                reply, flood = self.answer(line)
                if reply is not None:
                    await owed.put(reply)
                if flood is not None:
                    # As the course's servers do: the next line waits for the flood.
                    await self.flood(flood, from_client=reply is not None)
            await owed.put(None)  # Every owed reply is still sent after EOF.
            await sender
        finally:
            sender.cancel()
            writer.close()
            self.log("connection from %s closed" % who)

    async def send_replies(self, owed, writer, who):
        broken = False
        while (item := await owed.get()) is not None:
            text = item if isinstance(item, str) else await item
            if broken:
                continue  # Still taken off the queue, so the reader never waits on it.
            self.log("to %s: %s" % (who, text.rstrip("\n")))
            try:
                writer.write(text.encode())
                await writer.drain()
            except ConnectionError:
                broken = True

    def answer(self, line):
        """(reply, AT line to flood): the reply is text, a task (WHATSAT) or None."""
        fields = line.split()
        if not fields:
            return None, None
        if fields[0] == "IAMAT" and len(fields) == 4:
            return self.iamat(line, fields)
        if fields[0] == "WHATSAT" and len(fields) == 4:
            return self.whatsat(line, fields), None
        if fields[0] == "AT" and len(fields) == 6 and self.valid_at(fields):
            at = " ".join(fields)
            return None, (at if self.store(at, fields) == "stored" else None)
        return "? %s\n" % line, None

    def iamat(self, line, fields):
        client_ns = parse_time_ns(fields[3])
        if parse_location(fields[2]) is None or client_ns is None:
            return "? %s\n" % line, None
        at = "AT %s %s %s %s %s" % (self.name, time_diff(time.time_ns(), client_ns), *fields[1:])
        stored = self.store(at, at.split())
        if stored == "full":
            return "? %s\n" % line, None
        return at + "\n", (at if stored == "stored" else None)

    def valid_at(self, f):
        return (parse_location(f[4]) is not None and parse_time_ns(f[5]) is not None
                and re.fullmatch(r"[+-]\d+\.\d{9}", f[2]) is not None)

    def store(self, at, fields):
        """Keeps the record when it is newer than the client's: "stored", "stale" or "full"."""
        old = self.records.get(fields[3])
        new = Record(at, fields)
        if old is not None and old.time_ns >= new.time_ns:
            return "stale"
        if old is None and len(self.records) >= RECORDS_MAX:
            self.log("record table full (%d clients): %s refused" % (RECORDS_MAX, fields[3]))
            return "full"
        self.records[fields[3]] = new
        return "stored"

    # --- WHATSAT and Places -----------------------------------------------------------

    def whatsat(self, line, fields):
        record = self.records.get(fields[1])
        try:
            radius_km, bound = float(fields[2]), int(fields[3])
        except ValueError:
            record = None
        if record is None or not 0 < radius_km <= 50 or not 1 <= bound <= 20:
            return "? %s\n" % line
        return asyncio.create_task(self.nearby(record, radius_km, bound))

    async def nearby(self, record, radius_km, bound):
        body = await self.places_body(record.location, radius_km, bound)
        # The reply ends with a blank line, so the body must hold none.
        body = re.sub(r"\n+", "\n", body).strip("\n")
        return "%s\n%s\n\n" % (record.line, body)

    async def places_body(self, location, radius_km, bound):
        session = self.places_session()
        if session is None:
            return error_body(self.places_missing)
        lat, lng = parse_location(location)
        params = {"location": "%s,%s" % (lat.lstrip("+"), lng.lstrip("+")),
                  "radius": str(round(radius_km * 1000)),
                  "key": os.environ.get("GOOGLE_API_KEY", "")}
        try:
            async with session.get(os.environ.get("HERD_PLACES_URL", PLACES_URL),
                                   params=params) as response:
                if response.status != 200:
                    return error_body("Places answered HTTP %d" % response.status)
                answer = json.loads(await response.text())
            answer["results"] = answer.get("results", [])[:bound]
            return json.dumps(answer, indent=3, separators=(",", " : "))
        except Exception as e:  # Any failure of Places is the client's UNKNOWN_ERROR.
            return error_body("Places %s" % (type(e).__name__ if not str(e) else e))

    def places_session(self):
        if self.places is None and self.places_missing is None:
            try:
                import aiohttp  # Only WHATSAT needs it: without it the rest still runs.
            except ImportError:
                self.places_missing = "Places not available: python3-aiohttp is not installed"
                self.log(self.places_missing)
                return None
            self.places = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=PLACES_TIMEOUT_S))
        return self.places

    # --- flooding ---------------------------------------------------------------------

    async def flood(self, at, from_client):
        """Sends a new record to every neighbour but the server that made it."""
        targets = [n for n in self.neighbours if n != at.split(" ", 2)[1]]
        if not self.persistent:
            await asyncio.gather(*(self.send_once(n, at + "\n") for n in targets))
            return
        for n in targets:
            if from_client:
                await self.queues[n].put(at + "\n")  # A full queue slows the client down.
            elif self.queues[n].full():
                # Why not wait: servers waiting on each other's full queues could wait
                # in a circle for ever.
                self.log("flood queue to %s full: dropped %s" % (n, at))
            else:
                self.queues[n].put_nowait(at + "\n")

    async def send_once(self, neighbour, message):
        """The plain variant: a new connection for one message, closed once written."""
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(*self.neighbours[neighbour]),
                                               CONNECT_TIMEOUT_S)
            writer.write(message.encode())
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            self.log("flooded to %s: %s" % (neighbour, message.rstrip("\n")))
        except (OSError, asyncio.TimeoutError) as e:
            self.log("cannot flood to %s (%s): dropped %s" % (neighbour, e, message.rstrip("\n")))

    async def send_kept(self, neighbour):
        """The persistent variant: one connection, kept; what waits goes in one write."""
        queue = self.queues[neighbour]
        writer = None
        while True:
            batch = [await queue.get()]
            while not queue.empty() and len(batch) < FLOOD_BATCH_MAX:
                batch.append(queue.get_nowait())
            for attempt in (1, 2):  # A kept connection may have died since the last batch.
                try:
                    if writer is None:
                        _, writer = await asyncio.wait_for(
                            asyncio.open_connection(*self.neighbours[neighbour]), CONNECT_TIMEOUT_S)
                        self.log("connected to " + neighbour)
                    writer.write("".join(batch).encode())
                    await writer.drain()
                    for message in batch:
                        self.log("flooded to %s: %s" % (neighbour, message.rstrip("\n")))
                    break
                except (OSError, asyncio.TimeoutError) as e:
                    if writer is not None:
                        writer.close()
                    writer = None
                    if attempt == 2:
                        self.log("cannot flood to %s (%s): dropped %d" % (neighbour, e, len(batch)))

    async def run(self):
        senders = [asyncio.create_task(self.send_kept(n)) for n in self.queues]
        host, port = self.address
        server = await asyncio.start_server(self.serve, host, port, limit=LINE_BYTES_MAX,
                                            backlog=LISTEN_BACKLOG, reuse_address=True)
        variant = "persistent" if self.persistent else "plain"
        self.log("listening on %s:%d (%s)" % (host, port, variant))
        print("asyncio herd: %s listening on %s:%d (%s)" % (self.name, host, port, variant),
              flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        for task in senders:
            task.cancel()
        if self.places is not None:
            await self.places.close()
        self.log("stopped")


def main():
    if len(sys.argv) != 2 or "HERD_TOPOLOGY" not in os.environ:
        sys.exit(__doc__)
    with open(os.environ["HERD_TOPOLOGY"], encoding="utf-8") as f:
        topology = json.load(f)
    base = os.environ.get("HERD_PORT_BASE")
    asyncio.run(Server(sys.argv[1], topology, int(base) if base else None).run())


if __name__ == "__main__":
    main()
