"""A TCP proxy on loopback that a test can cut and restore, to take a shared peer (PostgreSQL, Redis) away from
the app without stopping the server itself, which other tests and CI jobs keep using."""

import asyncio
import contextlib
import threading


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = '127.0.0.1') -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.is_cut = False
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> 'TcpProxy':
        self._server = await asyncio.start_server(self._accept, '127.0.0.1', 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def cut(self) -> None:
        """Drop every open connection, and every new one until `restore()`: the peer is gone for the app."""
        self.is_cut = True
        for writer in list(self._open):
            writer.close()
        self._open.clear()

    def restore(self) -> None:
        self.is_cut = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._open |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                if self.is_cut:
                    break
                writer.write(data)
                await writer.drain()
        writer.close()
        self._open.discard(writer)


class ThreadedTcpProxy:
    """A `TcpProxy` on an event loop of its own thread, for a peer of a server in a subprocess: the test's
    own loop blocks while the server starts (`tests.live_server`), and the server's start needs the peer."""

    def __init__(self, target_port: int, target_host: str = '127.0.0.1') -> None:
        self._proxy = TcpProxy(target_port, target_host)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._proxy.port

    def __enter__(self) -> 'ThreadedTcpProxy':
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._proxy.start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._proxy.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def cut(self) -> None:
        asyncio.run_coroutine_threadsafe(self._proxy.cut(), self._loop).result(timeout=10)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(self._proxy.restore)
