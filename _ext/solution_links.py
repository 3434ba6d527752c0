"""Resolve Markdown links to a label in another notebook: ``[solution](../x.ipynb#sol-y)``.

An exercise links to its worked solution with a plain relative link,
``[solution](../solutions/01_conv1d.ipynb#sol-conv1d-loops)``, because that is the one
kind of link that works both on the website and in JupyterLab: JupyterLab opens the
solution notebook in a new tab (the fragment names the solution block's id, which
jupyterlab-myst renders). myst-parser 3.0.1 resolves the path to the page
``solutions/01_conv1d`` but looks the fragment up only among the page's heading
anchors (``myst_heading_anchors``), so a label of a sphinx-exercise block (or any
``(label)=`` target) makes it warn "local id not found", and the build runs with
warnings as errors.

This post-transform runs just before myst-parser's resolver (priority 8 < 9): a link
whose fragment is a label defined *in the document the link names* becomes a reference
to that label's id. Any other link is left to myst-parser, which still warns about a
fragment that names nothing (a typo, a label in another page), so a broken solution
link still fails the build.
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import NoUri
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.nodes import make_refnode


class LabelLinks(SphinxPostTransform):
    default_priority = 8  # myst-parser's MystReferenceResolver is 9

    def run(self, **kwargs) -> None:
        std = self.env.get_domain("std")
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain") != "doc":
                continue
            target, label = node.get("reftarget"), node.get("reftargetid")
            if not label or label not in std.anonlabels:
                continue
            docname, labelid = std.anonlabels[label]
            if docname != target:
                continue
            inner = nodes.inline("", "", classes=["std", "std-ref"])
            inner.extend(child.deepcopy() for child in node[0].children)
            try:
                reference = make_refnode(
                    self.app.builder,
                    node.get("refdoc", self.env.docname),
                    docname,
                    labelid,
                    inner,
                )
            except NoUri:
                reference = inner
            node.replace_self(reference)


def setup(app):
    app.add_post_transform(LabelLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
