"""Reading an untrusted XML export as a stream of records: what the Disqus and WordPress readers share.

defusedxml refuses entity declarations (billion laughs) and external entities (XXE). The file
is parsed with `iterparse`; each record (an element at a fixed depth under the root) is handed
over once fully read and then dropped from its parent, so memory holds the fields the reader
extracts, never the whole tree. Every element carries the line it started on, and every parse
failure becomes a MalformedInput naming the line and column.
"""
from xml.etree.ElementTree import ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, iterparse

from .common import MalformedInput

# Where each element started, kept as a private attribute (elements have no line of their own).
LINE = "{urn:moderation:import}line"


class LineParser(DefusedXMLParser):
    """DefusedXMLParser that notes the line each element starts on, for error messages."""

    def __init__(self):
        super().__init__(target=TreeBuilder())

    def _start(self, tag, attr_list):
        element = super()._start(tag, attr_list)
        element.set(LINE, str(self.parser.CurrentLineNumber))
        return element


def text(element, path):
    child = element.find(path)
    return child.text if child is not None else None


def records(path, root_tag, expected, depth, progress=None):
    """Yield every element `depth` levels below the root (1: its children) once it is complete.

    `expected` describes the right root for the error when the file has another one;
    `progress(n)` is called with the bytes read so far after each record.
    """
    try:
        with open(path, "rb") as handle:
            stack, seen_root = [], False
            for event, element in iterparse(handle, events=("start", "end"), parser=LineParser()):
                if event == "start":
                    if not seen_root:
                        seen_root = True
                        if element.tag != root_tag:
                            raise MalformedInput(
                                f"{path}, line {element.get(LINE)}: the root element is <{element.tag}>, "
                                f"not {expected}"
                            )
                    stack.append(element)
                    continue
                stack.pop()
                # Deeper elements belong to a record still being read; shallower ones are containers.
                if len(stack) != depth:
                    continue
                yield element
                stack[-1].remove(element)  # read: let it go (streaming)
                if progress:
                    progress(handle.tell())
            if not seen_root:
                raise MalformedInput(f"{path}: empty file")
    except ParseError as exc:
        line, column = exc.position
        raise MalformedInput(f"{path}, line {line}, column {column}: not well-formed XML ({exc})") from exc
    except DefusedXmlException as exc:
        raise MalformedInput(f"{path}: refused unsafe XML ({exc})") from exc
