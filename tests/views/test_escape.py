"""views.escape: the one markdown/GitHub escaping and GitHub's per-step limits."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ipam_model.views.escape import (
    GITHUB_ANNOTATIONS_PER_LEVEL,
    GITHUB_LEVELS,
    github_command,
    hidden_annotations_notice,
    html_text,
    limit_annotations,
    markdown_cell,
    markdown_code,
)


def test_markdown_cell_keeps_a_row_a_row_and_text_text():
    assert markdown_cell("a|b") == "a\\|b"
    assert markdown_cell("<script>") == "&lt;script&gt;"
    assert markdown_cell("C:\\x") == "C:\\\\x"
    assert markdown_cell("one\r\ntwo\nthree\rfour") == "one<br>two<br>three<br>four"


def test_markdown_code_escapes_only_the_pipe_and_falls_back_on_backticks():
    assert markdown_code("stacks/Pulumi.dev.yaml") == "`stacks/Pulumi.dev.yaml`"
    assert markdown_code("a|b<c>") == "`a\\|b<c>`"
    assert markdown_code("a`b") == "a`b"
    assert markdown_code("") == ""


def test_html_text_escapes_what_raw_html_would_read():
    assert html_text("a <b> & c|d") == "a &lt;b&gt; &amp; c|d"


def test_github_command_escapes_properties_and_message():
    assert github_command("error", [("file", "a,b:c"), ("line", 3), ("title", "T: x")],
                          "50% done\nnext") == \
        "::error file=a%2Cb%3Ac,line=3,title=T%3A x::50%25 done%0Anext"


def sizes():
    return st.fixed_dictionaries({level: st.integers(0, 30) for level in GITHUB_LEVELS})


@given(sizes(), st.integers(0, 2))
def test_nothing_the_report_prints_exceeds_githubs_limit(counts, reserved):
    by_level = {level: list(range(n)) for level, n in counts.items()}
    shown, hidden = limit_annotations(by_level, reserved_notices=reserved)
    notice = hidden_annotations_notice(hidden, "see the summary")
    for level in GITHUB_LEVELS:
        assert shown[level] == by_level[level][:len(shown[level])]  # the worst first
        assert len(shown[level]) + hidden[level] == counts[level]
        assert len(shown[level]) <= GITHUB_ANNOTATIONS_PER_LEVEL
    # the count notice and the caller's own notices are notices too
    notices = len(shown["notice"]) + reserved + (notice is not None)
    assert notices <= GITHUB_ANNOTATIONS_PER_LEVEL
    assert (notice is None) == (sum(hidden.values()) == 0)
    for level in ("error", "warning"):  # only notices give way to the count notice
        assert hidden[level] == max(0, counts[level] - GITHUB_ANNOTATIONS_PER_LEVEL)


def test_exactly_ten_notices_fit_unless_the_caller_adds_one():
    ten = {"notice": list(range(10))}
    shown, hidden = limit_annotations(ten)
    assert len(shown["notice"]) == 10 and not any(hidden.values())
    shown, hidden = limit_annotations(ten, reserved_notices=1)
    assert len(shown["notice"]) == 8 and hidden["notice"] == 2  # 8 + count notice + summary


def test_count_notice_says_how_many_of_each_level_and_where_they_are():
    notice = hidden_annotations_notice({"error": 1, "warning": 0, "notice": 3}, "Look there.")
    assert notice == ("::notice title=calico-ipam%3A findings not shown::4 more findings not "
                      "shown as annotations (1 error, 0 warnings, 3 notes); GitHub shows at "
                      "most 10 per level and step. Look there.")
    assert hidden_annotations_notice({"error": 0, "warning": 0, "notice": 0}, "x") is None
