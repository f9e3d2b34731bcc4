"""A figure of a computational graph of :class:`~dlbook_utils.autodiff.Value` nodes.

Each node is a box showing its operation (or label), its ``data`` and its ``grad``; arrows run
from the inputs of an operation to its result, left to right, as the forward pass runs. The
layout is deterministic and needs only matplotlib (no graphviz). It is the classic layered
("Sugiyama") drawing, kept simple:

- columns: a node sits one column right of its deepest input (its topological depth); an input
  (a leaf) sits one column left of the leftmost operation that uses it, so constants stay next
  to their use;
- lanes: an arrow that skips columns gets an empty slot in each column it crosses and runs
  through them, so it never passes behind a box;
- rows: within a column, boxes and slots are sorted by the mean row of their neighbours (the
  "barycenter" heuristic), sweeping left to right and back, which reduces arrow crossings.

Readable up to a few dozen nodes; bigger graphs are refused (``max_nodes``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from .autodiff import Value, topological_order
from .plots import OKABE_ITO

__all__ = ["draw_graph", "graph_layout"]

_INPUT, _CONSTANT, _OPERATION, _ROOT = "#cfe8f7", "#eeeeee", "#ffffff", OKABE_ITO[1]


def _layout(root: Value):
    """Positions {vertex: (column, row)} of the nodes and of the lane slots, and the lanes
    {(input, result): [slot, ...]}, one slot per column the arrow crosses; a slot is the tuple
    (input, result, column). Rows count from 0 (top) within each column."""
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    users: dict[Value, list[Value]] = {node: [] for node in order}
    for node in order:
        for child in dict.fromkeys(node._children):  # each distinct input once
            users[child].append(node)

    column = {}
    for node in order:  # children first, so their columns are known
        column[node] = 1 + max((column[c] for c in node._children), default=-1)
    for node in order:
        if not node._children and users[node]:  # a leaf: just left of its first use
            column[node] = min(column[u] for u in users[node]) - 1
    shift = min(column.values())  # pulling leaves right may leave column 0 empty
    column = {node: c - shift for node, c in column.items()}

    # Neighbours in the next column to the left and to the right, slots included.
    left = {node: [] for node in order}
    right = {node: [] for node in order}
    rank = {node: (index[node], -1) for node in order}  # initial order within a column
    lanes = {}
    for node in order:
        for child in dict.fromkeys(node._children):
            slots = [(child, node, c) for c in range(column[child] + 1, column[node])]
            lanes[child, node] = slots
            for slot in slots:
                column[slot], left[slot], right[slot] = slot[2], [], []
                rank[slot] = (index[child], index[node])
            path = [child, *slots, node]
            for u, v in zip(path, path[1:], strict=False):
                right[u].append(v)
                left[v].append(u)

    n_columns = max(column.values()) + 1
    columns = [sorted((v for v in column if column[v] == c), key=rank.get)
               for c in range(n_columns)]

    def sort_by_neighbours(vertices, neighbours):
        # rows centred around 0, so that columns of different sizes line up
        y = {v: i - (len(col) - 1) / 2 for col in columns for i, v in enumerate(col)}

        def mean_neighbour_row(v):
            ys = [y[n] for n in neighbours[v]]
            return (sum(ys) / len(ys) if ys else y[v], rank[v])  # ties: graph order

        return sorted(vertices, key=mean_neighbour_row)

    for _ in range(2):  # two sweeps right then left are enough for graphs of this size
        for c in range(1, n_columns):
            columns[c] = sort_by_neighbours(columns[c], left)
        for c in range(n_columns - 2, -1, -1):
            columns[c] = sort_by_neighbours(columns[c], right)
    positions = {v: (c, r) for c, col in enumerate(columns) for r, v in enumerate(col)}
    return positions, lanes


def graph_layout(root: Value) -> dict[Value, tuple[int, int]]:
    """{node: (column, row)} for every node of the graph of ``root``; deterministic.

    Columns count from 0 (left); rows count from 0 (top) within each column, where the empty
    slots that carry long arrows also take rows.
    """
    positions, _ = _layout(root)
    return {v: p for v, p in positions.items() if isinstance(v, Value)}


def _node_text(node: Value, digits: int) -> str:
    """'label = op' (or whichever of the two exists), then data and grad."""
    title = " = ".join(part for part in (node.label, node._op) if part)
    lines = [title] if title else []
    # + 0.0 turns -0.0 (e.g. -1.5 * 0) into 0.0, which reads better and means the same
    lines += [f"data {node.data + 0.0:.{digits}g}", f"grad {node.grad + 0.0:.{digits}g}"]
    return "\n".join(lines)


def _node_colour(node: Value, root: Value) -> str:
    if node is root:
        return _ROOT
    if node._children:
        return _OPERATION
    return _INPUT if node.label else _CONSTANT  # an unlabelled leaf is a number in the formula


def draw_graph(root: Value, *, ax=None, max_nodes: int = 60, digits: int = 4,
               show_local_grads: bool = False):
    """Draw the graph that computed ``root``: one box per node with its data and grad.

    Call ``root.backward()`` first to see gradients (before it, every grad is 0). Orange: the
    root; blue: labelled inputs; grey: constants; white: operations. An operation with k inputs
    has k arrow heads, one per use, so ``a * a`` shows two arrows from ``a``. With
    ``show_local_grads`` each arrow is labelled with its local derivative d(result)/d(input).
    ``digits``: significant digits of the numbers. Returns the Axes.

    Without ``ax`` the figure is made at the graph's natural size (about 1.5 inch per column);
    in a given ``ax`` the drawing, text included, is scaled to fit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph expected a Value, got {type(root).__name__}")
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(f"draw_graph expected at most max_nodes={max_nodes} nodes (a bigger "
                         f"figure is unreadable), got {len(order)}")
    positions, lanes = _layout(root)
    texts = {node: _node_text(node, digits) for node in order}

    # Everything is measured in inches at the natural size: a monospace character is 0.6 em.
    fontsize = 8.0
    char, line = 0.6 * fontsize / 72, 1.3 * fontsize / 72
    width = max(len(row) for text in texts.values() for row in text.split("\n")) * char + 0.16
    height = max(text.count("\n") + 1 for text in texts.values()) * line + 0.1
    dx, dy = width + 0.5, height + 0.25  # column and row pitch: boxes plus room for arrows
    n_columns = max(c for c, _ in positions.values()) + 1
    sizes = [sum(1 for c, _ in positions.values() if c == k) for k in range(n_columns)]
    centre = {v: (dx * c, -dy * (r - (sizes[c] - 1) / 2)) for v, (c, r) in positions.items()}
    xlim = (-dx / 2, dx * (n_columns - 0.5))
    ylim = (-dy * max(sizes) / 2, dy * max(sizes) / 2)

    if ax is None:
        fig = plt.figure(figsize=(xlim[1] - xlim[0], ylim[1] - ylim[0]))
        ax = fig.add_axes((0, 0, 1, 1))
        scale = 1.0
    else:  # the equal-aspect drawing fills the axes in one direction: scale the text with it
        box = ax.get_position()
        scale = min(box.width * ax.figure.get_figwidth() / (xlim[1] - xlim[0]),
                    box.height * ax.figure.get_figheight() / (ylim[1] - ylim[0]))

    for node in order:
        x, y = centre[node]
        ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                    boxstyle="round,pad=0,rounding_size=0.06", zorder=2,
                                    facecolor=_node_colour(node, root), edgecolor="#555555",
                                    linewidth=0.8))
        ax.text(x, y, texts[node], ha="center", va="center", fontsize=fontsize * scale,
                family="monospace", zorder=3)

    for node in order:
        k = len(node._children)
        for i, (child, local) in enumerate(zip(node._children, node._local_grads, strict=True)):
            # From the input's right side, straight through the slots of its lane, to the
            # result's left side, where the k arrow heads are spread over the box's height
            # so that every use (a * a: two) has its own.
            points = [(centre[child][0] + width / 2, centre[child][1])]
            for slot in lanes[child, node]:
                points += [(centre[slot][0] - width / 2, centre[slot][1]),
                           (centre[slot][0] + width / 2, centre[slot][1])]
            points.append((centre[node][0] - width / 2,
                           centre[node][1] + height * 0.6 * ((k - 1) / 2 - i) / max(k - 1, 1)))
            path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
            ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", color="#555555",
                                         mutation_scale=9 * scale, linewidth=0.9, zorder=1))
            if show_local_grads:  # at the middle of the last stretch, next to the result
                (x0, y0), (x1, y1) = points[-2:]
                ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{local:.{digits}g}", ha="center",
                        va="center", zorder=4, fontsize=7 * scale, color=OKABE_ITO[0],
                        bbox=dict(boxstyle="square,pad=0.1", facecolor="white", linewidth=0))

    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax
