"""The worker's render cost per comment on worst-case 5,000-character bodies (goal: ≤ 5 ms each).

`render_comment` runs once per stored comment, inside the drain job's budget: 50 bodies of
"x\\n\\n" × 1,667 took 11.2 s to store with the old bleach-per-paragraph renderer. Each case is
a body of (at most) 5,000 characters, the reader API's limit, built to stress one part of the
renderer; the figure per case is the median of several rounds, and the worst case is printed
last with the machine's load (`uptime`). With `--bleach`, bleach's html5lib pass over the same
output is timed too (why it is not our final pass; moderation/sanitizer.py).

    .venv/bin/python bench/sanitizer_worst.py [--rounds 7] [--bleach]
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from moderation.sanitizer import render_comment  # noqa: E402

LIMIT = 5000  # the body limit of validators.validate_comment
GOAL_MS = 5.0


def _fit(text):
    return text[:LIMIT]


def _blns_like():
    """Mixed hostile lines: our XSS set and naughty-strings style Unicode, repeated to the limit."""
    own = Path(__file__).resolve().parent.parent / "tests" / "support" / "hostile" / "xss.txt"
    lines = [line for line in own.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    lines += ["٩(-̮̮̃-̃)۶ ٩(●̮̮̃•̃)۶", "Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤", "‪‪test‪", "𝕋𝕙𝕖 𝕢𝕦𝕚𝕔𝕜",
              "1;DROP TABLE users", "<>?:\"{}|_+", "﷽", "𝓣𝓱𝓮", "🐵 🙈 🙉 🙊", "¡™£¢∞§¶•ªº–≠"]
    return _fit("\n".join(lines * (LIMIT // sum(map(len, lines)) + 2)))


CASES = {
    "paragraphs x\\n\\n ×1667": ("x\n\n" * 1667).strip(),  # the case, as validated
    "line breaks x\\n ×2500": _fit("x\n" * 2500),
    "paragraphs with a link": _fit("https://a.example/\n\n" + "x\n\n" * 1700),
    "nested tags <b><i>… ×800": _fit("<b><i><em><strong>" * 160 + "x" + "</strong></em></i></b>" * 160),
    "unclosed tags <b ×2500": _fit("<b" * 2500),
    "many links": _fit("https://news.example/a?b=1 " * 200),
    "links with brackets": _fit("(https://x.example/a_(b)) " * 200),
    "many <": "<" * LIMIT,
    "many &": "&" * LIMIT,
    "html comments <!-- ×1250": _fit("<!--" * 1250),
    "one long line": "а" * LIMIT,
    "long line, no spaces, url": "https://x.example/" + "a" * (LIMIT - 18),
    "bold **a** ×1000": _fit("**a** " * 1000),
    "unclosed bold ** ×2500": "**" * 2500,
    "bold openers **a ×1666": _fit("**a" * 1666),
    "quotes > a\\n ×1666": _fit("> a\n" * 1666),
    "quote/text alternating": _fit("> a\nb\n" * 900),
    "spaces between newlines": _fit("\n" + " " * 4998 + "\n"),
    "many blank lines": _fit("a" + "\n \n" * 1666),
    "url then ))))": "https://x.example/" + ")" * (LIMIT - 18),
    "blns-like": _blns_like(),
    "plain Russian text": _fit("Наконец-то открыли трамвайную линию, ждали пять лет. " * 100),
}


def time_case(body, rounds, per_round=20):
    """(wall, cpu) ms per render: the medians over `rounds` rounds of `per_round` renders.

    CPU time is this process's own: on a shared machine (load above the core count) the wall
    time also counts the time other processes held the core.
    """
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(per_round):
            render_comment(body)
        wall.append((time.perf_counter() - start) / per_round * 1000)
        cpu.append((time.process_time() - start_cpu) / per_round * 1000)
    return statistics.median(wall), statistics.median(cpu)


def time_bleach(body, rounds):
    import bleach  # noqa: PLC0415

    from moderation.sanitizer import ALLOWED_ATTRIBUTES, ALLOWED_TAGS  # noqa: PLC0415

    cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, strip=False)
    html = render_comment(body)
    return statistics.median(
        _timed(lambda: cleaner.clean(html)) for _ in range(rounds)
    )


def _timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bleach", action="store_true", help="also time a bleach pass over the output")
    args = parser.parse_args()
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    worst_wall = worst_cpu = (0.0, None)
    print(f"{'case':32} {'chars':>5}  {'wall ms':>8}  {'cpu ms':>7}")
    for name, body in CASES.items():
        assert len(body) <= LIMIT, name
        wall, cpu = time_case(body, args.rounds)
        extra = f"   bleach pass {time_bleach(body, 3):7.1f} ms" if args.bleach else ""
        print(f"{name:32} {len(body):5}  {wall:8.3f}  {cpu:7.3f}{extra}")
        worst_wall, worst_cpu = max(worst_wall, (wall, name)), max(worst_cpu, (cpu, name))
    for label, (ms, name) in (("wall", worst_wall), ("cpu", worst_cpu)):
        verdict = "met" if ms <= GOAL_MS else "NOT met"
        print(f"worst {label}: {name} {ms:.3f} ms per comment (goal ≤ {GOAL_MS} ms: {verdict})")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
