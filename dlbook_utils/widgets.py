"""Explorers: one figure, several knobs, usable live and on the static website.

``explorer(plot_fn, params, sweep="lr")`` returns an :class:`Explorer`.  Displayed in a notebook
it carries two views of the same figure:

* a live ipywidgets UI (a slider or drop-down per parameter; every change re-runs ``plot_fn``),
  which Jupyter and Colab show while a kernel is running;
* a kernel-free fallback, ``FuncAnimation.to_jshtml()`` over a precomputed sweep of ONE
  parameter (the others at their defaults), which the static site shows.  Frames are few and
  small (``max_frames``, ``dpi``) so a notebook stays well under 3 MB.

``plot_fn(ax, **values)`` must draw only into ``ax`` (an Axes, or an array of Axes when
``ncols > 1``).  The text form of the object is stable (no addresses, no random ids), and the
HTML's element id is derived from its content, so stored outputs repeat run after run.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Explorer", "explorer"]

# The text form stands in for the widget in the printed edition, where code and output lines
# must fit the book's 75-character code column (book/ruff.toml).
REPR_WIDTH = 75


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def _in_kernel() -> bool:
    """True inside a Jupyter kernel, where a widget can be displayed and talk back."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class Explorer:
    """See :func:`explorer`."""

    def __init__(self, plot_fn: Callable, params: dict, *, title: str = "",
                 sweep: str | None = None, defaults: dict | None = None, max_frames: int = 12,
                 ncols: int = 1, figsize=(5.0, 3.2), dpi: int = 60, interval: int = 600,
                 live: bool = True):
        if not callable(plot_fn):
            raise ValueError(f"explorer expected a callable plot_fn(ax, **values), "
                             f"got {type(plot_fn).__name__}")
        if not isinstance(params, dict) or not params:
            raise ValueError("explorer expected params as a non-empty dict "
                             "{name: [value, value, ...]}")
        self.params = {}
        for name, values in params.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
                raise ValueError(f"explorer: params[{name!r}] must be a list of values, "
                                 f"got {type(values).__name__}")
            if len(values) == 0:
                raise ValueError(f"explorer: params[{name!r}] is empty")
            self.params[name] = list(values)
        self.sweep = sweep if sweep is not None else next(iter(self.params))
        if self.sweep not in self.params:
            raise ValueError(f"explorer: sweep={self.sweep!r} is not one of {list(self.params)}")
        self.defaults = {name: values[0] for name, values in self.params.items()}
        for name, value in (defaults or {}).items():
            if name not in self.params:
                raise ValueError(f"explorer: default for unknown parameter {name!r}")
            if value not in self.params[name]:
                raise ValueError(f"explorer: default {name}={value!r} is not among its values")
            self.defaults[name] = value
        if max_frames < 1:
            raise ValueError(f"explorer: max_frames must be >= 1, got {max_frames}")
        self.plot_fn, self.title, self.ncols = plot_fn, title, ncols
        self.figsize, self.dpi, self.interval, self.max_frames = figsize, dpi, interval, max_frames
        self.live = live
        self._html: str | None = None
        self._widget = None

    # ------------------------------------------------------------------ shared drawing
    def sweep_values(self) -> list:
        """The swept parameter's values used as frames: all, or ``max_frames`` evenly spread."""
        values = self.params[self.sweep]
        if len(values) <= self.max_frames:
            return values
        idx = np.unique(np.round(np.linspace(0, len(values) - 1, self.max_frames)).astype(int))
        return [values[i] for i in idx]

    def _new_figure(self, dpi):
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, self.ncols, figsize=self.figsize, dpi=dpi)
        return fig, axes

    def _draw(self, fig, axes, values: dict) -> None:
        for ax in np.atleast_1d(axes):
            ax.clear()
        self.plot_fn(axes, **values)
        label = ", ".join(f"{k} = {_fmt(v)}" for k, v in values.items() if k == self.sweep)
        fig.suptitle(f"{self.title}  ({label})" if self.title else label, fontsize=10)

    # ------------------------------------------------------------------ static view
    def to_html(self) -> str:
        """The kernel-free slider (``FuncAnimation.to_jshtml``), computed once and cached."""
        if self._html is None:
            import matplotlib.pyplot as plt
            from matplotlib.animation import FuncAnimation

            frames = self.sweep_values()
            fig, axes = self._new_figure(self.dpi)
            try:
                def update(i):
                    self._draw(fig, axes, {**self.defaults, self.sweep: frames[i]})
                    return []

                anim = FuncAnimation(fig, update, frames=len(frames), interval=self.interval,
                                     repeat=False)
                html = anim.to_jshtml(default_mode="once")
            finally:
                plt.close(fig)  # the animation replaces the figure; no second static copy
            html = _offline_buttons(html)
            # matplotlib names the elements with a random uuid; use one derived from the content
            ids = set(re.findall(r"[0-9a-f]{32}", html))
            stable = hashlib.sha1(repr(self).encode()).hexdigest()[:32]
            for old in ids:
                html = html.replace(old, stable)
            self._html = html
        return self._html

    # ------------------------------------------------------------------ live view
    def widget(self):
        """The live ipywidgets UI: one control per parameter above the figure.

        The figure is drawn to PNG bytes shown by an ``ipywidgets.Image``: no display message is
        sent from the callback, so a notebook run headless (nbval, nbclient) stores exactly the
        same outputs as one run in Jupyter.
        """
        if self._widget is None:
            import ipywidgets as w

            controls = {}
            for name, values in self.params.items():
                numeric = all(isinstance(v, (int, float, np.number)) for v in values)
                options = [(_fmt(v), v) for v in values]
                cls = w.SelectionSlider if numeric and len(values) > 1 else w.Dropdown
                controls[name] = cls(options=options, value=self.defaults[name],
                                     description=name, continuous_update=False)
            image = w.Image(format="png")

            def redraw(_change=None):
                image.value = self._png({name: c.value for name, c in controls.items()})

            for control in controls.values():
                control.observe(redraw, names="value")
            redraw()
            self._widget = w.VBox([w.HBox(list(controls.values())), image])
        return self._widget

    def _png(self, values: dict) -> bytes:
        import io

        import matplotlib.pyplot as plt

        fig, axes = self._new_figure(100)
        try:
            self._draw(fig, axes, values)
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
        finally:
            plt.close(fig)
        return buf.getvalue()

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        """What the printed edition shows in place of the widget: sentences, wrapped."""
        frames = self.sweep_values()
        title = self.title.strip().rstrip(".")
        what = f"Interactive explorer: {title}." if title else "Interactive explorer."
        controls = f"controls: {', '.join(self.params)}."
        if len(frames) == 1:
            sweep = f"Shows {self.sweep} = {_fmt(frames[0])}; {controls}"
        else:
            sweep = (f"Sweeps {self.sweep} over {len(frames)} frames "
                     f"({_fmt(frames[0])} to {_fmt(frames[-1])}); {controls}")
        use = "Open the web page or run the notebook to use it."
        return "\n".join(textwrap.fill(s, width=REPR_WIDTH) for s in (what, sweep, use))

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self), "text/html": self.to_html()}
        if self.live and _in_kernel():
            try:
                bundle.update(self.widget()._repr_mimebundle_() or {})
            except ImportError:  # no ipywidgets: the static view alone still works
                pass
            bundle["text/plain"] = repr(self)  # ours, not the widget's address-bearing one
        return bundle


# matplotlib's player draws its buttons with Font Awesome loaded from a CDN; the site must work
# offline, so the stylesheet link goes and each icon becomes a plain Unicode glyph.
_FA_CDN = re.compile(r'<link rel="stylesheet"[^>]*font-awesome[^>]*>\s*')
_GLYPHS = {"minus": "−", "plus": "+", "fast-backward": "⏮", "step-backward": "⏴",
           "play": "▶", "play fa-flip-horizontal": "◀", "pause": "⏸", "step-forward": "⏵", "fast-forward": "⏭"}


def _offline_buttons(html: str) -> str:
    html = _FA_CDN.sub("", html)
    return re.sub(r'<i class="fa fa-([a-z -]+)"></i>',
                  lambda m: f'<span aria-hidden="true">{_GLYPHS.get(m.group(1), "•")}</span>', html)


def explorer(plot_fn: Callable, params: dict, *, title: str = "", sweep: str | None = None,
             **options) -> Explorer:
    """Build an :class:`Explorer` for ``plot_fn(ax, **values)`` over ``params``.

    ``params``: ``{name: [values...]}``; the first value of each is its default (override with
    ``defaults={...}``).  ``sweep``: the parameter animated in the static fallback (default: the
    first).  Other options: ``max_frames=12``, ``ncols=1``, ``figsize``, ``dpi=60``,
    ``interval`` (ms per frame), ``live=True`` (include the ipywidgets view).
    """
    return Explorer(plot_fn, params, title=title, sweep=sweep, **options)
