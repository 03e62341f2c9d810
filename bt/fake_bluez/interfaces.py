"""What the fake's D-Bus interfaces declare (methods, signals, writable properties), as ``Introspect``
XML; the handlers use the same :data:`WRITABLE` table, so the XML cannot disagree with ``Set``."""
from __future__ import annotations

from dbus_fast import Variant
from dbus_fast.signature import get_signature_tree

from routesim.bt.bluez.constants import (
    ADAPTER,
    DEVICE,
    ENDPOINT,
    FAKE_PIPEWIRE_IFACE,
    FAKE_PIPEWIRE_PATH,
    INTROSPECTABLE,
    OBJECT_MANAGER,
    PROPERTIES,
    TRANSPORT,
)

Tree = dict[str, dict[str, dict[str, Variant]]]  # path -> interface -> property -> value

# What bluetoothd offers audio servers and pairing agents (media.AudioServerHost answers them).
MEDIA = "org.bluez.Media1"
PROFILE_MANAGER = "org.bluez.ProfileManager1"
AGENT_MANAGER = "org.bluez.AgentManager1"
PROFILE = "org.bluez.Profile1"

METHODS: dict[str, list[tuple[str, str, str]]] = {  # interface -> (name, in, out)
    OBJECT_MANAGER: [("GetManagedObjects", "", "a{oa{sa{sv}}}")],
    ADAPTER: [
        ("StartDiscovery", "", ""),
        ("StopDiscovery", "", ""),
        ("SetDiscoveryFilter", "a{sv}", ""),
        ("GetDiscoveryFilters", "", "as"),
        ("RemoveDevice", "o", ""),
    ],
    DEVICE: [
        ("Connect", "", ""),
        ("Disconnect", "", ""),
        ("ConnectProfile", "s", ""),
        ("DisconnectProfile", "s", ""),
        ("Pair", "", ""),
        ("CancelPairing", "", ""),
    ],
    TRANSPORT: [("Acquire", "", "hqq"), ("TryAcquire", "", "hqq"), ("Release", "", "")],
    ENDPOINT: [("SetConfiguration", "oa{sv}", "")],
    MEDIA: [
        ("RegisterEndpoint", "oa{sv}", ""),
        ("UnregisterEndpoint", "o", ""),
        ("RegisterApplication", "oa{sv}", ""),
        ("UnregisterApplication", "o", ""),
    ],
    PROFILE_MANAGER: [("RegisterProfile", "osa{sv}", ""), ("UnregisterProfile", "o", "")],
    AGENT_MANAGER: [("RegisterAgent", "os", ""), ("UnregisterAgent", "o", ""), ("RequestDefaultAgent", "o", "")],
    FAKE_PIPEWIRE_IFACE: [("ListCards", "", "a(sss)"), ("SetCardProfile", "ss", "")],
}
SIGNALS = {
    OBJECT_MANAGER: [("InterfacesAdded", "oa{sa{sv}}"), ("InterfacesRemoved", "oas")],
    DEVICE: [("Disconnected", "ss")],
    FAKE_PIPEWIRE_IFACE: [("CardProfileChanged", "sss")],
}
WRITABLE = {
    ADAPTER: {"Alias", "Powered", "Discoverable", "Pairable", "DiscoverableTimeout", "PairableTimeout", "Connectable"},
    DEVICE: {"Alias", "Trusted", "Blocked", "WakeAllowed"},
    TRANSPORT: {"Volume", "Delay"},
}


def introspect(tree: Tree, path: str) -> str:
    """``Introspect`` of a BlueZ path: its interfaces and the child nodes below it in ``tree``."""
    ifaces = dict(tree.get(path, {}))
    if path == "/":
        ifaces = {OBJECT_MANAGER: {}}
    parts = ['<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"',
             ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">', "<node>",
             f'<interface name="{INTROSPECTABLE}"><method name="Introspect"><arg name="xml" type="s" direction="out"/></method></interface>']
    if path != "/":
        parts.append(
            f'<interface name="{PROPERTIES}">'
            '<method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="out"/></method>'
            '<method name="Set"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="in"/></method>'
            '<method name="GetAll"><arg type="s" direction="in"/><arg type="a{sv}" direction="out"/></method>'
            '<signal name="PropertiesChanged"><arg type="s"/><arg type="a{sv}"/><arg type="as"/></signal></interface>'
        )
    for iface, props in ifaces.items():
        parts.append(_iface_xml(iface, props))
    prefix = path.rstrip("/") + "/"
    children = sorted({p[len(prefix):].split("/")[0] for p in tree if p.startswith(prefix) and p != path})
    if path == "/" and tree:
        children = ["org"]
    elif path in ("/org", "/org/") and tree:
        children = ["bluez"]
    parts += [f'<node name="{c}"/>' for c in children]
    parts.append("</node>")
    return "\n".join(parts)


def introspect_pipewire(path: str) -> str:
    if path == FAKE_PIPEWIRE_PATH:
        return "<node>" + _iface_xml(FAKE_PIPEWIRE_IFACE, {}) + "</node>"
    return "<node></node>"


def _iface_xml(iface: str, props: dict[str, Variant]) -> str:
    out = [f'<interface name="{iface}">']
    for name, ins, outs in METHODS.get(iface, []):
        out.append(f'<method name="{name}">')
        out += [f'<arg type="{t}" direction="in"/>' for t in _split_sig(ins)]
        out += [f'<arg type="{t}" direction="out"/>' for t in _split_sig(outs)]
        out.append("</method>")
    for name, sig in SIGNALS.get(iface, []):
        out.append(f'<signal name="{name}">' + "".join(f'<arg type="{t}"/>' for t in _split_sig(sig)) + "</signal>")
    for name, value in props.items():
        access = "readwrite" if name in WRITABLE.get(iface, ()) else "read"
        out.append(f'<property name="{name}" type="{value.signature}" access="{access}"/>')
    out.append("</interface>")
    return "".join(out)


def _split_sig(sig: str) -> list[str]:
    return [t.signature for t in get_signature_tree(sig).types] if sig else []
