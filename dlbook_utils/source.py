"""Show the package's own source inside a chapter.

A chapter that says "this is the library's Dense layer" should show the code
that really runs. `show_source` reads the source from the installed module
when the cell executes, so if the package changes and the chapter's stored
output does not, the notebook's regression test (nbval) fails.
"""
import inspect


def show_source(obj):
    """Return a syntax-highlighted listing of a function's or class's source.

    obj: a function, class or method of `dlbook_utils`.
    The listing starts with a comment naming the module and the object,
    e.g. ``# dlbook_utils.layers.Dense``.
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError("show_source expected a function, class or method, "
                        f"got {type(obj).__name__}")
    from IPython.display import Code  # imported here: only notebooks need it

    class Listing(Code):
        def _repr_latex_(self):  # None: no LaTeX form (the PDF build would typeset
            return None  # Code's as math); the PDF shows the plain-text listing

    header = f"# {obj.__module__}.{obj.__qualname__}\n"
    return Listing(header + inspect.getsource(obj), language="python")
