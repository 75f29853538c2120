"""The XML form of the norm's messages (MSG-01): safe parsing (MSG-05) and the JSON ⇄ XML mapping.

Mapping (specs/xsd/README.md): the root element is the message kind; each JSON member is a child element
of the same name in namespace urn:yzw:norm:2026; an array is an element of the array's name holding one
`item` per entry; numbers and booleans are their JSON text; null or absent is an absent element. Reading
back, the XSD's declarations give each element its JSON type, and undeclared elements are ignored (MSG-03).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from yzw.content import content_path
from yzw.errors import YzwError

if TYPE_CHECKING:
    import xmlschema

NS = "urn:yzw:norm:2026"
XML_KINDS = ("application", "supplements", "event", "batch", "license", "error")
_PREFIX = f"{{{NS}}}"
_ANY_TYPE = "{http://www.w3.org/2001/XMLSchema}anyType"
# Members that JSON requires but allows to be null: absent in XML (MSG-01), null again when read back.
_NULL_WHEN_ABSENT = {"Event": ("case_no",)}
_XML_NAME = re.compile(r"^[A-Za-z_\u00C0-\uFFEF][\w.\-\u00B7\u00C0-\uFFEF]*$")


class XmlForbidden(YzwError):
    """MSG-05: a DOCTYPE, entity declaration or external reference; nothing was resolved."""


class XmlMalformed(YzwError):
    """MSG-04: the bytes are not well-formed XML."""


@cache
def xsd() -> xmlschema.XMLSchema10:
    """The normative XSD (specs/xsd/yzw.xsd), loaded once. (xmlschema imported here: ≈ 20 MB a process that
    reads no XML, such as each worker of `yzw audit`, need not hold.)"""
    import xmlschema  # noqa: PLC0415

    return xmlschema.XMLSchema10(str(content_path("specs", "xsd", "yzw.xsd")))


def parse_xml(data: bytes | str) -> ET.Element:
    """Parse XML refusing DTDs, entities and external references before anything is resolved."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return cast(ET.Element, root)
    except DefusedXmlException as exc:
        raise XmlForbidden(f"XML_FORBIDDEN_CONSTRUCT: {type(exc).__name__}; nothing was resolved") from exc
    except ET.ParseError as exc:
        raise XmlMalformed(f"[MSG-04] malformed XML: {exc}") from exc


def local_name(element: ET.Element) -> str | None:
    """The element's name in the norm's namespace, or None for an element of another namespace."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag[len(_PREFIX) :] if tag.startswith(_PREFIX) else None


def to_xml(kind: str, document: dict[str, Any]) -> bytes:
    """The XML form of a JSON message of `kind`."""
    if kind not in XML_KINDS:
        raise YzwError(f"{kind} has no XML form; XML kinds are: {', '.join(XML_KINDS)}")
    root = ET.Element(_PREFIX + kind)
    for name, value in document.items():
        _append(root, name, value)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=NS))


def _append(parent: ET.Element, name: str, value: Any) -> None:
    if value is None:
        return
    if not _XML_NAME.match(name):
        raise YzwError(f"[MSG-01] member {name!r} cannot be an XML element name; rename it for the XML form")
    element = ET.SubElement(parent, _PREFIX + name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(element, "item", item)
    elif isinstance(value, bool | int | float):
        element.text = json.dumps(value)
    else:
        element.text = str(value)


def from_xml(root: ET.Element) -> tuple[str, dict[str, Any]]:
    """The kind and the JSON form of a parsed XML message, typed by the XSD."""
    kind = local_name(root)
    if kind not in XML_KINDS:
        raise YzwError(
            f"[MSG-01] root element {root.tag!r} is no message of the XML form "
            f"({', '.join(XML_KINDS)} in namespace {NS})"
        )
    value = _convert(root, xsd().elements[kind].type)
    return kind, value if isinstance(value, dict) else {}


def _convert(element: ET.Element, xsd_type: Any) -> Any:
    if xsd_type is None or xsd_type.name == _ANY_TYPE:
        return _generic(element)
    if xsd_type.is_complex() and xsd_type.mixed:  # the open `form` object: an empty one is {}
        return _generic(element) or {}
    if xsd_type.is_simple():
        return _scalar(element.text or "", xsd_type)
    children, is_list = _children(xsd_type)
    if is_list:
        return [_convert(child, children["item"]) for child in element if local_name(child) == "item"]
    result: dict[str, Any] = dict.fromkeys(_NULL_WHEN_ABSENT.get(xsd_type.local_name or "", ()))
    for child in element:
        name = local_name(child) or ""
        if name in children:  # MSG-03: members the norm does not declare are ignored
            result[name] = _convert(child, children[name])
    return result


@cache
def _children(xsd_type: Any) -> tuple[dict[str, Any], bool]:
    """A complex type's child element types by name, and whether it is an array (only `item` children)."""
    declared = list(xsd_type.content.iter_elements())
    is_list = [d.local_name for d in declared] == ["item"] and declared[0].max_occurs is None
    return {d.local_name: d.type for d in declared}, is_list


_XS = "{http://www.w3.org/2001/XMLSchema}"


@cache
def _json_type(xsd_type: Any) -> str:
    """`integer`, `boolean` or `string`: the JSON type an XSD simple type reads back as."""
    node = xsd_type
    while node is not None:
        if node.name in (_XS + "integer", _XS + "boolean"):
            return str(node.name).removeprefix(_XS)
        node = getattr(node, "base_type", None)
    return "string"


def _scalar(text: str, xsd_type: Any) -> Any:
    """The JSON value of a simple element; a text that is not its type stays text for the schema to report."""
    kind = _json_type(xsd_type)
    if kind == "integer" and text.strip().lstrip("+-").isdigit():
        return int(text)
    if kind == "boolean" and text.strip() in ("true", "false", "1", "0"):
        return text.strip() in ("true", "1")
    return text


def _generic(element: ET.Element) -> Any:
    """Content the XSD leaves open (form, documents): objects, `item` lists and text."""
    children = [child for child in element if local_name(child) is not None]
    if not children:
        return element.text or ""
    if all(local_name(child) == "item" for child in children):
        return [_generic(child) for child in children]
    return {str(local_name(child)): _generic(child) for child in children}


def xsd_errors(data: bytes | str) -> list[tuple[str, str]]:
    """(XPath, reason) for each way a parsed XML message breaks the XSD, as sent (undeclared members too)."""
    root = parse_xml(data)
    return [(error.path or "/", str(error.reason)) for error in xsd().iter_errors(root)]
