"""Browsing an OPC UA server's address space for the binding dialog (:func:`browse`).

Re-exported by :mod:`twinviewer.sources.opcua`, where the UI and the tests import it from.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from twinviewer.core.project import OpcUaSource
from twinviewer.sources.opcua_connect import (
    OpcUaError,
    _asyncua,
    _close_client,
    _describe,
    _load_credentials,
    _open_client,
)

if TYPE_CHECKING:
    from asyncua import Client

__all__ = ["BrowseNode", "browse", "browse_source"]


@dataclass
class BrowseNode:
    """One node of a server's address space, as the binding dialog shows it."""

    node_id: str  # e.g. "ns=2;s=tm1_current"
    browse_name: str  # e.g. "2:tm1_current"
    display_name: str
    node_class: str  # "Object", "Variable", "Method", ...
    data_type: str | None = None  # variables: e.g. "Double"
    description: str = ""
    children: list[BrowseNode] = field(default_factory=list)

    @property
    def is_variable(self) -> bool:
        return self.node_class == "Variable"

    def walk(self) -> list[BrowseNode]:
        """This node and all below it, depth first."""
        out = [self]
        for c in self.children:
            out += c.walk()
        return out


def browse(
    endpoint: str,
    *,
    security_policy: Literal["None", "Basic256Sha256"] = "None",
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None",
    certificate: str | None = None,
    private_key: str | None = None,
    server_certificate: str | None = None,
    username: str | None = None,
    password: str | None = None,
    password_env: str | None = None,
    folder: Path | None = None,
    root: str = "i=85",
    max_depth: int = 8,
    max_nodes: int = 5000,
    include_standard: bool = False,
    timeout: float = 10.0,
) -> list[BrowseNode]:
    """The address space below ``root`` (default: the Objects folder) as a tree, ``max_depth``
    levels deep and at most ``max_nodes`` nodes. Connection options are those of an ``opcua``
    source (files relative to ``folder``). Namespace 0 (the server's own objects) is left out
    unless ``include_standard``; properties (HasProperty) are left out. Runs its own short-lived
    asyncio loop: call it from a worker thread. Raises :class:`OpcUaError` with a clear message.
    """
    from pydantic import ValidationError

    try:
        cfg = OpcUaSource(
            type="opcua",
            endpoint=endpoint,
            security_policy=security_policy,
            security_mode=security_mode,
            certificate=certificate,
            private_key=private_key,
            server_certificate=server_certificate,
            username=username,
            password=password,
            password_env=password_env,
        )
    except ValidationError as exc:
        raise OpcUaError(
            "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        ) from None
    return browse_source(
        cfg,
        folder or Path.cwd(),
        root=root,
        max_depth=max_depth,
        max_nodes=max_nodes,
        include_standard=include_standard,
        timeout=timeout,
    )


def browse_source(
    config: OpcUaSource,
    folder: Path,
    *,
    root: str = "i=85",
    max_depth: int = 8,
    max_nodes: int = 5000,
    include_standard: bool = False,
    timeout: float = 10.0,
) -> list[BrowseNode]:
    """:func:`browse` with the connection settings of a project's ``opcua`` source."""
    _asyncua()
    creds = _load_credentials(config, Path(folder))

    async def run() -> list[BrowseNode]:
        client = await _open_client(config, creds, min(timeout, 5.0))
        try:
            return await _walk(client, root, max_depth, max_nodes, include_standard)
        finally:
            await _close_client(client)

    try:
        return asyncio.run(asyncio.wait_for(run(), timeout))
    except OpcUaError:
        raise
    except (asyncio.TimeoutError, TimeoutError):
        raise OpcUaError(f"browsing {config.endpoint} took longer than {timeout:g} s") from None
    except Exception as exc:
        raise OpcUaError(f"cannot browse {config.endpoint}: {_describe(exc)}") from None


async def _walk(
    client: Client, root: str, max_depth: int, max_nodes: int, include_standard: bool
) -> list[BrowseNode]:
    """Breadth first, one Browse request per level (in chunks), then the variables' types."""
    ua = _asyncua().ua
    root_id = ua.NodeId.from_string(root)
    has_property = ua.NodeId(ua.ObjectIds.HasProperty)
    seen = {root_id}
    level: list[tuple[Any, BrowseNode | None]] = [(root_id, None)]
    top: list[BrowseNode] = []
    variables: list[tuple[Any, BrowseNode]] = []
    count = 0
    for _depth in range(max_depth):
        if not level or count >= max_nodes:
            break
        found: list[tuple[Any, BrowseNode | None]] = []
        for start in range(0, len(level), 200):
            chunk = level[start : start + 200]
            refs = await _browse_refs(client, [n for n, _ in chunk])
            for (_, parent), children in zip(chunk, refs, strict=True):
                for ref in children:
                    if ref.ReferenceTypeId == has_property or getattr(ref.NodeId, "ServerIndex", 0):
                        continue
                    nid = ua.NodeId(
                        ref.NodeId.Identifier, ref.NodeId.NamespaceIndex, ref.NodeId.NodeIdType
                    )
                    if nid in seen or (nid.NamespaceIndex == 0 and not include_standard):
                        continue
                    seen.add(nid)
                    node = BrowseNode(
                        node_id=nid.to_string(),
                        browse_name=ref.BrowseName.to_string(),
                        display_name=ref.DisplayName.Text or ref.BrowseName.Name or "",
                        node_class=ref.NodeClass.name,
                    )
                    (parent.children if parent is not None else top).append(node)
                    if ref.NodeClass == ua.NodeClass.Variable:
                        variables.append((nid, node))
                    found.append((nid, node))
                    count += 1
                    if count >= max_nodes:
                        break
        level = found
    if variables:
        await _fill_types(client, variables)
    return top


async def _browse_refs(client: Client, nodes: list[Any]) -> list[list[Any]]:
    ua = _asyncua().ua
    params = ua.BrowseParameters(
        View=ua.ViewDescription(),
        RequestedMaxReferencesPerNode=0,
        NodesToBrowse=[
            ua.BrowseDescription(
                NodeId=n,
                BrowseDirection=ua.BrowseDirection.Forward,
                ReferenceTypeId=ua.NodeId(ua.ObjectIds.HierarchicalReferences),
                IncludeSubtypes=True,
                NodeClassMask=0,
                ResultMask=ua.BrowseResultMask.All,
            )
            for n in nodes
        ],
    )
    results = await client.uaclient.browse(params)
    out = []
    for res in results:
        refs = list(res.References or [])
        cp = res.ContinuationPoint
        while cp:
            more = await client.uaclient.browse_next(
                ua.BrowseNextParameters(ReleaseContinuationPoints=False, ContinuationPoints=[cp])
            )
            refs += list(more[0].References or [])
            cp = more[0].ContinuationPoint
        out.append(refs)
    return out


async def _fill_types(client: Client, variables: list[tuple[Any, BrowseNode]]) -> None:
    """Data type names and descriptions of the variables, read in a few batched requests."""
    ua = _asyncua().ua
    ids = [nid for nid, _ in variables]
    types = await _read(client, ids, ua.AttributeIds.DataType)
    descriptions = await _read(client, ids, ua.AttributeIds.Description)
    names: dict[Any, str] = {}
    unknown = []
    for dv in types:
        t = dv.Value.Value if dv.Value is not None else None
        if isinstance(t, ua.NodeId) and t not in names:
            if t.NamespaceIndex == 0 and isinstance(t.Identifier, int):
                names[t] = ua.ObjectIdNames.get(t.Identifier, t.to_string())
            else:
                names[t] = t.to_string()
                unknown.append(t)
    if unknown:
        for t, dv in zip(
            unknown, await _read(client, unknown, ua.AttributeIds.DisplayName), strict=True
        ):
            text = dv.Value.Value.Text if dv.Value is not None and dv.Value.Value else None
            names[t] = text or names[t]
    for (_, node), tv, dv in zip(variables, types, descriptions, strict=True):
        t = tv.Value.Value if tv.Value is not None else None
        node.data_type = names.get(t) if t is not None else None
        d = dv.Value.Value if dv.Value is not None else None
        node.description = (d.Text or "") if d is not None and hasattr(d, "Text") else ""


async def _read(client: Client, ids: list[Any], attr: Any) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(ids), 500):
        out += await client.uaclient.read_attributes(ids[start : start + 500], attr)
    return out
