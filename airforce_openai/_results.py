"""Save what a generation returned: decode ``b64_json`` or download ``url``, name files by content.

    >>> response = client.images.generate(model="flux-2-dev", prompt="an otter")
    >>> save_images(response, "out")  # a PNG, whatever its link claims
    [PosixPath('out/image-0.png')]

Files are named ``{prefix}-{index}{ext}``, ``index`` counting the response's
items from 0 and ``ext`` the format sniffed from the bytes (``.png``, ``.jpg``,
``.webp``, ``.gif``, ``.mp3``, ``.mp4``...), never what a URL or a label claims:
the gateway's links all end in ``/image.jpeg`` whatever they serve. Content that
is not a recognised image, audio or video file is not saved. An existing file is
never overwritten: the first free name of ``image-0-1.png``, ``image-0-2.png``...
is used instead.

An item is saved from its ``b64_json`` when it has one, else from its ``url``.
``max_bytes`` bounds every item: a download while it is read, a ``data:`` URL
or a ``b64_json`` value by the length of its text, before anything is decoded.

Downloads go only where a result can live:

- only ``http`` and ``https`` URLs are fetched (a ``data:`` URL is decoded in
  place), and each redirect is followed by hand and checked like the first URL;
- a host with a loopback, private, link-local or otherwise non-public address
  is refused, unless it is the gateway host of the client that produced the
  response (that client records it on the response) or is named in
  ``allowed_hosts``. A host name is looked up once, every address it has must
  be public, and the connection goes to an address that was checked, so the
  name cannot point elsewhere between the check and the connection;
- each request carries only the headers chosen here: none of the
  ``http_client``'s default headers, cookies, auth or query parameters.

Items that cannot be saved do not stop the others: once every item has been
tried, :class:`ImageUnavailableError` names each failed index and why, with the
paths that were written in ``.paths``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import os
import pathlib
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import unquote_to_bytes

import anyio
import anyio.to_thread
from openai.types import ImagesResponse

from ._compat import httpx
from ._exceptions import ImageUnavailableError
from ._formats import SNIFF_BYTES, MediaType, sniff
from ._values import is_int, shorten
from ._version import __version__

__all__ = ["DEFAULT_MAX_BYTES", "asave_images", "save_images"]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
"""The largest item :func:`save_images` accepts, in bytes: a download, a ``data:`` URL or a
``b64_json`` value."""
DEFAULT_TIMEOUT = 60.0
"""Seconds allowed for each network operation of a download (look-up, connect, each read...)."""
DEFAULT_CONCURRENCY = 8
"""How many downloads :func:`asave_images` runs at once."""

MAX_REDIRECTS = 10
MAX_NAME_ATTEMPTS = 1000
"""How many names a file gets tried under (``{prefix}-{index}-{attempt}``) before saving gives
up: thousands of results with one prefix in one directory mean the caller should pick another."""
# Of a host's (checked) addresses, how many are tried in turn when connecting fails.
_MAX_ADDRESSES = 4
_DOWNLOAD_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_USER_AGENT = f"airforce-openai/{__version__}"
_WHITESPACE = " \t\n\r\v\f"

_GATEWAY_HOST_ATTR = "_airforce_gateway_host"
"""The attribute under which a client records, on a response it parsed, its gateway's host."""

# A NAT64 address carries an IPv4 address in its last 32 bits (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class _ResultItem(Protocol):
    @property
    def url(self) -> str | None: ...

    @property
    def b64_json(self) -> str | None: ...


class _Result(Protocol):
    @property
    def data(self) -> Sequence[_ResultItem] | None: ...


SavableResponse = ImagesResponse | _Result | Mapping[str, Any]
"""An ``ImagesResponse``, any object with ``.data`` items that have ``.url``/``.b64_json``,
or a dict of the same shape."""


_MISSING = object()


class _ItemFailed(Exception):
    """Why one item could not be saved (collected, then reported together)."""


@dataclass(frozen=True)
class _Download:
    """An item whose bytes are behind an http(s) URL (without user info)."""

    url: httpx.URL

    @property
    def host(self) -> str:
        return self.url.host


def save_images(
    response: SavableResponse,
    directory: str | os.PathLike[str],
    *,
    prefix: str = "image",
    http_client: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allowed_hosts: Iterable[str] = (),
) -> list[pathlib.Path]:
    """Write every item of a generation result to ``directory``; return the paths in order.

    ``http_client`` is used as given (and left open) to send the downloads, but
    none of its headers, cookies, auth or query parameters go with them; by
    default a client is created for the call and closed after it. ``timeout``
    bounds each network operation (look-up, connect, each read), ``max_bytes``
    the size of each item. Hosts with loopback, private or link-local addresses
    are refused, except the gateway host of the client that produced
    ``response`` and the host names in ``allowed_hosts`` (e.g.
    ``["files.internal.example", "127.0.0.1"]``), which are reached whatever
    their addresses. Raises :class:`ImageUnavailableError` after saving the
    others if any item fails.
    """
    _check_options(prefix=prefix, timeout=timeout, max_bytes=max_bytes, concurrency=1)
    trusted = _trusted_hosts(response, allowed_hosts)
    items = _items(response)
    folder = _prepare_directory(directory)
    paths: list[pathlib.Path | None] = [None] * len(items)
    failures: dict[int, str] = {}

    clients = _LazyClient(http_client, lambda: httpx.Client(**_client_options(timeout)))
    try:
        for index, item in enumerate(items):
            try:
                source = _source(item, max_bytes)
                if isinstance(source, _Download):
                    route = _Route(source, trusted=trusted, timeout=timeout, max_bytes=max_bytes)
                    content = _fetch(clients.get(), route)
                else:
                    content = source
                media = _media_of(content)
            except _ItemFailed as exc:
                failures[index] = str(exc)
                continue
            paths[index] = _write(folder, f"{prefix}-{index}", content, media)
    finally:
        if clients.created is not None:
            clients.created.close()
    return _finish(paths, failures)


# save_images' twin only where the I/O differs (its client, concurrency); each step is shared.
async def asave_images(
    response: SavableResponse,
    directory: str | os.PathLike[str],
    *,
    prefix: str = "image",
    http_client: httpx.AsyncClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    concurrency: int = DEFAULT_CONCURRENCY,
    allowed_hosts: Iterable[str] = (),
) -> list[pathlib.Path]:
    """Like :func:`save_images`, downloading up to ``concurrency`` items at once."""
    _check_options(prefix=prefix, timeout=timeout, max_bytes=max_bytes, concurrency=concurrency)
    trusted = _trusted_hosts(response, allowed_hosts)
    items = _items(response)
    folder = await anyio.to_thread.run_sync(_prepare_directory, directory)
    paths: list[pathlib.Path | None] = [None] * len(items)
    failures: dict[int, str] = {}
    # Unexpected errors (a full disk...) are kept per item and the first one
    # re-raised once the others are done, rather than cancelling them.
    errors: dict[int, Exception] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    clients = _LazyClient(http_client, lambda: httpx.AsyncClient(**_client_options(timeout)))

    async def save_one(index: int, item: object) -> None:
        try:
            source = _source(item, max_bytes)
            if isinstance(source, _Download):
                route = _Route(source, trusted=trusted, timeout=timeout, max_bytes=max_bytes)
                async with limiter:
                    content = await _afetch(clients.get(), route)
            else:
                content = source
            media = _media_of(content)
            paths[index] = await anyio.to_thread.run_sync(
                _write, folder, f"{prefix}-{index}", content, media
            )
        except _ItemFailed as exc:
            failures[index] = str(exc)
        except Exception as exc:
            errors[index] = exc

    try:
        async with anyio.create_task_group() as group:
            for index, item in enumerate(items):
                group.start_soon(save_one, index, item)
    finally:
        if clients.created is not None:
            await clients.created.aclose()
    if errors:
        raise errors[min(errors)]
    return _finish(paths, failures)


# ---------------------------------------------------------------------------
# The gateway a response came from


def gateway_host_of(response: object) -> str | None:
    """The host name of the gateway whose client produced ``response``; None if unknown.

    The client records it when it parses a response (:func:`record_gateway_host`);
    a response built by hand, or a dict, has none.
    """
    host = getattr(response, _GATEWAY_HOST_ATTR, None)
    return host if isinstance(host, str) and host else None


def record_gateway_host(response: object, base_url: str | httpx.URL) -> None:
    """Record on ``response`` the host name of ``base_url``, the gateway that answered it.

    The record travels with the response (copies and pickles included) and
    outlives the client; it is not part of the response's fields or its JSON.
    An object that takes no attributes (a dict, a str) is left as it is.
    """
    try:
        # A client's base_url is already parsed: re-parsing it costs more than the rest.
        host = base_url.host if isinstance(base_url, httpx.URL) else httpx.URL(base_url).host
    except httpx.InvalidURL:
        return
    if host:
        # Straight into the instance dict, where a pydantic model keeps an undeclared
        # underscore attribute anyway (out of its fields, dumps and equality); its own
        # __setattr__ costs more than the rest of this, on every parsed response.
        try:
            vars(response)[_GATEWAY_HOST_ATTR] = _normal_host(host)
        except TypeError:
            return  # no instance dict (a dict, a str): nothing to record on


def _trusted_hosts(response: object, allowed_hosts: object) -> frozenset[str]:
    """The hosts reached whatever their addresses: ``allowed_hosts`` and the response's gateway."""
    trusted = set(_allowed_hosts(allowed_hosts))
    gateway = gateway_host_of(response)
    if gateway is not None:
        trusted.add(_normal_host(gateway))
    return frozenset(trusted)


def _allowed_hosts(value: object) -> frozenset[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        hint = (
            "; wrap a single host in a list: allowed_hosts=[...]" if isinstance(value, str) else ""
        )
        raise TypeError(
            f"allowed_hosts must be a list of host names, got {type(value).__name__} "
            f"({value!r}){hint}"
        )
    hosts: set[str] = set()
    for index, host in enumerate(value):
        if not isinstance(host, str):
            raise TypeError(
                f"allowed_hosts[{index}] must be a host name (str), got {type(host).__name__}"
            )
        name = _normal_host(host)
        if not name or any(c in name for c in "/@?# ") or (":" in name and not _is_ip(name)):
            raise ValueError(
                f"allowed_hosts[{index}] must be a host name such as 'files.example.com' or "
                f"'127.0.0.1', without scheme, port or path; got {host!r}"
            )
        hosts.add(name)
    return frozenset(hosts)


def _normal_host(host: str) -> str:
    name = host.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name


def _is_trusted(url: httpx.URL, trusted: frozenset[str]) -> bool:
    raw = url.raw_host.decode("ascii", errors="replace")
    return _normal_host(url.host) in trusted or _normal_host(raw) in trusted


# ---------------------------------------------------------------------------
# Where a download may go


def address_problem(address: str) -> str | None:
    """Why a download may not connect to ``address``, or None for a public address.

    >>> address_problem("10.1.2.3"), address_problem("::1"), address_problem("93.184.215.14")
    ('private', 'loopback', None)

    IPv6 addresses that carry an IPv4 one (``::ffff:127.0.0.1``, 6to4, NAT64)
    are judged by the IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return "unrecognised"
    if isinstance(ip, ipaddress.IPv6Address):
        # These reach the IPv4 address they carry (DNS64 answers NAT64 ones for every
        # IPv4-only host on an IPv6-only network): that address decides.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(str(embedded))
    kinds = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    return next((kind for kind, found in kinds if found), None)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _hop_addresses(
    url: httpx.URL, *, redirected: bool, trusted: frozenset[str], timeout: float
) -> Sequence[str | None]:
    """The checked addresses a request for ``url`` may connect to; ``[None]``: by its name.

    A trusted host is reached by its name. Any other host needs every address it
    has to be public: one private address among them refuses the host, as the
    connection might use it. Looking a name up blocks for up to ``timeout``.
    """
    if _is_trusted(url, trusted):
        return [None]
    host = url.host
    try:
        if _is_ip(host):
            addresses = [host]
        else:
            port = url.port or _DEFAULT_PORTS[url.scheme]
            addresses = _resolve(url.raw_host.decode("ascii"), port, timeout)
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                raise _ItemFailed(_refusal(host, address, problem))
    except _ItemFailed as exc:
        if redirected:
            raise _ItemFailed(f"redirected to {host}: {exc}") from None
        raise
    return addresses[:_MAX_ADDRESSES]


def _refusal(host: str, address: str, problem: str) -> str:
    article = "an" if problem[0] in "aeiou" else "a"
    what = f"{host} is" if host == address else f"{host} resolves to {address},"
    return (
        f"{what} {article} {problem} address; downloads go only to public addresses, the "
        f"gateway's own host and hosts named in allowed_hosts (allowed_hosts=[{host!r}] "
        "trusts this one)"
    )


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses of ``host``, in the resolver's order, waiting at most ``timeout``.

    ``getaddrinfo`` has no timeout of its own: it runs in a thread that is
    left behind (it ends when the resolver gives up) if it takes too long.
    """
    found: list[str] = []
    failed: list[BaseException] = []

    def look_up() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            failed.append(exc)
            return
        for info in infos:
            address = str(info[4][0])
            if address not in found:
                found.append(address)

    thread = threading.Thread(target=look_up, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _ItemFailed(f"looking up {host} timed out (timeout={timeout:g} s)")
    if failed:
        exc = failed[0]
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise _ItemFailed(f"cannot look up {host}: {reason}")
    if not found:
        raise _ItemFailed(f"{host} has no address")
    return found


def _hop_request(url: httpx.URL, address: str | None, timeout: float) -> httpx.Request:
    """A GET for ``url`` with only our own headers, sent to ``address`` when one is given.

    With an address, the connection goes there while ``Host``, TLS SNI and the
    certificate check still name the host: a name-based request, minus a second
    look-up that could answer differently.
    """
    headers = {"User-Agent": _USER_AGENT, "Accept": "*/*"}
    extensions: dict[str, Any] = {"timeout": httpx.Timeout(timeout).as_dict()}
    target = url
    if address is not None:
        target = url.copy_with(host=address)
        headers["Host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
    return httpx.Request("GET", target, headers=headers, extensions=extensions)


# ---------------------------------------------------------------------------
# What to save


def _items(response: object) -> list[object]:
    if isinstance(response, Mapping):
        data = response.get("data", _MISSING)
    else:
        data = getattr(response, "data", _MISSING)
    if data is None:
        return []
    if data is _MISSING or isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        shown = "no data" if data is _MISSING else f"data of type {type(data).__name__}"
        raise TypeError(
            "response must be an ImagesResponse, or an object or dict with a 'data' list; "
            f"got {type(response).__name__} with {shown}"
        )
    return list(data)


def _field(item: object, name: str) -> object:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _source(item: object, max_bytes: int) -> bytes | _Download:
    """The bytes of an item, or where to download them; ``_ItemFailed`` when it has neither."""
    b64 = _field(item, "b64_json")
    if b64 is not None and b64 != "":
        if not isinstance(b64, str):
            raise _ItemFailed(f"b64_json is a {type(b64).__name__}, not a string")
        return _decode_base64(b64, what="b64_json", max_bytes=max_bytes)
    url = _field(item, "url")
    if url is None or url == "":
        raise _ItemFailed(
            "no url or b64_json in the response (the gateway sends url: null when it "
            "could not re-host the file)"
        )
    if not isinstance(url, str):
        raise _ItemFailed(f"url is a {type(url).__name__}, not a string")
    text = url.strip()
    if text[:5].lower() == "data:":
        return _decode_data_url(text, max_bytes=max_bytes)
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise _ItemFailed(f"url {shorten(text)!r} is not a valid URL ({exc})") from None
    return _Download(_download_url(parsed, shown=text, redirected=False))


def _download_url(url: httpx.URL, *, shown: str, redirected: bool) -> httpx.URL:
    """``url`` if it may be downloaded from (http or https, with a host), without user info.

    ``shown`` is the URL as it was given, for the error message.
    """
    if url.scheme not in _DOWNLOAD_SCHEMES:
        kind = f"a {url.scheme!r} URL" if url.scheme else "a URL without a scheme"
        lead = "redirected to" if redirected else "url is"
        raise _ItemFailed(
            f"{lead} {kind} ({shorten(shown)!r}); only http and https URLs are downloaded"
        )
    if not url.host:
        lead = "redirected to" if redirected else "url"
        raise _ItemFailed(f"{lead} {shorten(shown)!r} has no host")
    # Credentials in a URL are not the caller's to send; a file link never needs them.
    return url.copy_with(userinfo=b"") if url.userinfo else url


def _base64_size(text: str, *, start: int = 0, escapes: int = 0) -> int:
    """How many bytes the base64 in ``text[start:]`` decodes to, counted without decoding it.

    With ``escapes`` (``%XX`` sequences, each one character once undone) it is a lower bound.
    """
    length = len(text) - start - sum(text.count(c, start) for c in _WHITESPACE) - 2 * escapes
    if escapes:
        length -= 2  # the padding may be escaped too, and so not seen below
    tail = text[-8:].rstrip(_WHITESPACE)[-2:]
    padding = len(tail) - len(tail.rstrip("="))
    return max(0, (length - padding) * 3 // 4)


def _too_large(what: str, size: int, max_bytes: int, *, at_least: bool = False) -> _ItemFailed:
    holds = f"at least {size}" if at_least else f"{size}"
    return _ItemFailed(f"{what} holds {holds} bytes, more than max_bytes={max_bytes} (not decoded)")


def _decode_base64(text: str, *, what: str, max_bytes: int) -> bytes:
    if text[:5].lower() == "data:":
        return _decode_data_url(text, max_bytes=max_bytes)
    size = _base64_size(text)
    if size > max_bytes:
        raise _too_large(what, size, max_bytes)
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        content = _decode_base64_leniently(text, what=what)
    if not content:
        raise _ItemFailed(f"{what} is empty")
    return content


def _decode_base64_leniently(text: str, *, what: str) -> bytes:
    # Line breaks, missing padding and the URL-safe alphabet all occur in the wild.
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    altchars = b"-_" if ("-" in compact or "_" in compact) else None
    try:
        return base64.b64decode(compact, altchars=altchars, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _ItemFailed(f"{what} is not valid base64 ({exc})") from None


def _decode_data_url(url: str, *, max_bytes: int) -> bytes:
    # The payload is measured inside `url` and copied out only once it is known to fit.
    comma = url.find(",")
    if comma < 0:
        raise _ItemFailed("url is a data: URL without a ',' before its data")
    start = comma + 1
    what = "the data: URL"
    # Each %XX escape stands for one character: what is left once they are undone
    # bounds the size from below.
    escapes = url.count("%", start)
    if url[:comma].lower().endswith(";base64"):
        least = _base64_size(url, start=start, escapes=escapes)
        if least > max_bytes:
            raise _too_large(what, least, max_bytes, at_least=escapes > 0)
        payload = url[start:]
        if escapes:
            payload = unquote_to_bytes(payload).decode("ascii", errors="replace")
        return _decode_base64(payload, what=what, max_bytes=max_bytes)
    least = len(url) - start - escapes * 2
    if least > max_bytes:
        raise _too_large(what, least, max_bytes, at_least=escapes > 0)
    content = unquote_to_bytes(url[start:])
    if len(content) > max_bytes:
        raise _too_large(what, len(content), max_bytes)
    if not content:
        raise _ItemFailed("url is an empty data: URL")
    return content


def _media_of(content: bytes) -> MediaType:
    """The format of ``content``; ``_ItemFailed`` when it is no image, audio or video file."""
    media = sniff(content)
    if media is None:
        raise _ItemFailed(_not_media(content))
    return media


def _not_media(head: bytes) -> str:
    return (
        f"the content is not a recognised image, audio or video file (it starts with "
        f"{bytes(head[:16])!r}); it was not saved"
    )


# ---------------------------------------------------------------------------
# Downloading


_ClientT = TypeVar("_ClientT", httpx.Client, httpx.AsyncClient)


class _LazyClient(Generic[_ClientT]):
    """The caller's client, or one made on first use, which the caller of ``created`` closes."""

    def __init__(self, given: _ClientT | None, factory: Callable[[], _ClientT]) -> None:
        self._client: _ClientT | None = given
        self._factory: Callable[[], _ClientT] = factory
        self.created: _ClientT | None = None

    def get(self) -> _ClientT:
        if self._client is None:
            self._client = self.created = self._factory()
        return self._client


def _client_options(timeout: float) -> dict[str, Any]:
    return {"timeout": timeout, "follow_redirects": False}


class _Route:
    """Where one download goes, hop by hop: the decisions, while the drivers send and read.

    The first hop is the item's URL; each redirect leads to the next, checked like
    the first, up to ``MAX_REDIRECTS`` of them and never back to a URL already seen.
    """

    def __init__(
        self, source: _Download, *, trusted: frozenset[str], timeout: float, max_bytes: int
    ) -> None:
        self.url = source.url
        self._host = source.host
        self._trusted = trusted
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._seen = {str(source.url)}

    def requests(self) -> list[httpx.Request]:
        """The GETs for this hop, one per checked address, to try in turn; blocks to look up."""
        addresses = _hop_addresses(
            self.url, redirected=len(self._seen) > 1, trusted=self._trusted, timeout=self._timeout
        )
        return [_hop_request(self.url, address, self._timeout) for address in addresses]

    def follow(self, response: httpx.Response) -> bool:
        """True, moved on to its target, for a redirect; False for the file to read (checked)."""
        target = _redirect_target(self.url, response)
        if target is None:
            _check_response(response, self._max_bytes)
            return False
        if str(target) in self._seen:
            raise _ItemFailed(f"the redirects loop back to {shorten(str(target))!r}")
        if len(self._seen) > MAX_REDIRECTS:
            raise _ItemFailed(f"more than {MAX_REDIRECTS} redirects")
        self._seen.add(str(target))
        self.url = target
        return True

    def buffer(self) -> _CappedBuffer:
        return _CappedBuffer(self._max_bytes)

    @contextlib.contextmanager
    def failures(self) -> Iterator[None]:
        """Any way the download fails, as one ``_ItemFailed`` that names the host."""
        failed = f"download from {self._host} failed"
        try:
            yield
        except _ItemFailed as exc:
            raise _ItemFailed(f"{failed}: {exc}") from None
        except httpx.TimeoutException:
            raise _ItemFailed(f"{failed}: timed out (timeout={self._timeout:g} s)") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            detail = str(exc) or type(exc).__name__
            raise _ItemFailed(f"{failed}: {type(exc).__name__}: {detail}") from None


def _fetch(client: httpx.Client, route: _Route) -> bytes:
    with route.failures():
        while True:  # bounded: the route refuses a redirect past MAX_REDIRECTS
            response = _send(client, route.requests())
            try:
                if not route.follow(response):
                    buffer = route.buffer()
                    for chunk in response.iter_bytes():
                        buffer.add(chunk)
                    return buffer.content()
            finally:
                response.close()


async def _afetch(client: httpx.AsyncClient, route: _Route) -> bytes:
    with route.failures():
        while True:  # bounded: the route refuses a redirect past MAX_REDIRECTS
            response = await _asend(client, await anyio.to_thread.run_sync(route.requests))
            try:
                if not route.follow(response):
                    buffer = route.buffer()
                    chunks: AsyncIterator[bytes] = response.aiter_bytes()
                    async for chunk in chunks:
                        buffer.add(chunk)
                    return buffer.content()
            finally:
                await response.aclose()


def _send(client: httpx.Client, requests: list[httpx.Request]) -> httpx.Response:
    """Send the first of ``requests`` that connects."""
    *others, last = requests
    with _unusable_redirect():
        for request in others:
            with contextlib.suppress(httpx.ConnectError):
                return client.send(request, **_SEND_OPTIONS)
        return client.send(last, **_SEND_OPTIONS)


async def _asend(client: httpx.AsyncClient, requests: list[httpx.Request]) -> httpx.Response:
    *others, last = requests
    with _unusable_redirect():
        for request in others:
            with contextlib.suppress(httpx.ConnectError):
                return await client.send(request, **_SEND_OPTIONS)
        return await client.send(last, **_SEND_OPTIONS)


# Redirects are followed by hand, each hop checked; auth=None: the request carries
# no auth of the client's own, only the headers of `_hop_request`.
_SEND_OPTIONS: dict[str, Any] = {"stream": True, "follow_redirects": False, "auth": None}


@contextlib.contextmanager
def _unusable_redirect() -> Iterator[None]:
    # The request's URL is valid; older httpx lines still parse a redirect's Location
    # inside send(), and fail there on one like "javascript:alert(1)".
    try:
        yield
    except httpx.InvalidURL as exc:
        raise _ItemFailed(f"redirected to an invalid URL ({exc})") from None


def _redirect_target(url: httpx.URL, response: httpx.Response) -> httpx.URL | None:
    """Where a redirect from ``url`` points, when ``response`` is one; checked like an item URL.

    ``url`` is the URL as named (not the address connected to), so a relative
    ``Location`` keeps the host name.
    """
    if not response.has_redirect_location:
        return None
    location = response.headers["location"]
    try:
        target = url.join(location)
    except httpx.InvalidURL as exc:
        raise _ItemFailed(f"redirected to an invalid URL ({exc})") from None
    return _download_url(target, shown=location, redirected=True)


def _check_response(response: httpx.Response, max_bytes: int) -> None:
    if not response.is_success:
        reason = response.reason_phrase
        raise _ItemFailed(f"HTTP {response.status_code}{f' {reason}' if reason else ''}")
    declared = response.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise _ItemFailed(f"the file is {int(declared)} bytes, more than max_bytes={max_bytes}")


class _CappedBuffer:
    """Collects a download, refusing to hold more than ``max_bytes`` or what is not media.

    The format is judged as soon as the first bytes are in, so a web page or
    other non-media answer stops the download there.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._chunks: list[bytes] = []
        self._size = 0
        self._judged = False

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._max_bytes:
            raise _ItemFailed(
                f"the file is larger than max_bytes={self._max_bytes} (stopped reading)"
            )
        self._chunks.append(chunk)
        if not self._judged and self._size >= SNIFF_BYTES:
            self._judge()

    def content(self) -> bytes:
        if self._size == 0:
            raise _ItemFailed("the file host sent an empty body")
        if not self._judged:
            self._judge()
        return b"".join(self._chunks)

    def _judge(self) -> None:
        self._judged = True
        head = b""
        for chunk in self._chunks:
            head += chunk[: SNIFF_BYTES - len(head)]
            if len(head) >= SNIFF_BYTES:
                break
        _media_of(head)


# ---------------------------------------------------------------------------
# Writing


def _check_options(*, prefix: str, timeout: float, max_bytes: int, concurrency: int) -> None:
    if not isinstance(prefix, str) or not prefix or prefix in (".", ".."):
        raise ValueError(f"prefix must be a non-empty file name, got {prefix!r}")
    separators = {"/", "\\", "\x00", os.sep} | ({os.altsep} if os.altsep else set())
    if any(sep in prefix for sep in separators):
        raise ValueError(f"prefix must be a file name without a directory part, got {prefix!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not is_int(max_bytes) or max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    if not is_int(concurrency) or concurrency <= 0:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")


def _prepare_directory(directory: str | os.PathLike[str]) -> pathlib.Path:
    folder = pathlib.Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"directory {str(folder)!r} exists and is not a directory")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(folder: pathlib.Path, stem: str, content: bytes, media: MediaType) -> pathlib.Path:
    """Write ``content`` as ``stem`` + its format's extension, under the first free name."""
    extension = media.extension
    for attempt in range(MAX_NAME_ATTEMPTS):
        path = folder / (f"{stem}{extension}" if attempt == 0 else f"{stem}-{attempt}{extension}")
        try:
            # "x" creates the file or fails: no race can make it overwrite one.
            file = path.open("xb")
        except FileExistsError:
            continue
        try:
            with file:
                file.write(content)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(
        f"no free file name for {stem}{extension} in {str(folder)!r} "
        f"after {MAX_NAME_ATTEMPTS} attempts; choose another prefix or directory"
    )


def _finish(paths: list[pathlib.Path | None], failures: Mapping[int, str]) -> list[pathlib.Path]:
    if not failures:
        return [path for path in paths if path is not None]
    indexes = sorted(failures)
    lines = "\n".join(f"  - item {index}: {failures[index]}" for index in indexes)
    saved = len(paths) - len(indexes)
    noun = "item" if len(indexes) == 1 else "items"
    message = (
        f"{len(indexes)} of {len(paths)} result {noun} could not be saved "
        f"(indexes {', '.join(map(str, indexes))}); {saved} saved:\n{lines}"
    )
    raise ImageUnavailableError(message, indexes=indexes, paths=paths)
