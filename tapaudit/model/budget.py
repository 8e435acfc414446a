"""How much evaluation one template may ask for: the limits past which it is refused, not run.

A template is data, but evaluating it is work that the template chooses: a chain of `Fn::Sub`
that renders each name four times from the next one quadruples the length at every step (each
name is evaluated once, so not the steps), a value of thousands of functions takes as many steps,
and one large parameter default substituted thousands of times asks for gigabytes. Every limit
below is far above what real templates need (none of 1,459 real and 846 SAM templates took more
than 60 steps or rendered 400 characters) and far below what hangs or exhausts a run. A template
past one is an input error for that template alone (exit 2, one line naming the file and the
limit); every other input is scanned. Two limits give a value, not an error: past MAX_BRANCHES
Fn::If combinations or MAX_INTRINSIC_DEPTH nested functions, the value is unknown (reported as
such).

Every limit of a run, and where it is enforced:
- reading: a file of over 32 MB (`loading.discovery.MAX_BYTES`), nesting deeper than 500 levels
  or YAML aliases expanding to over 1,000,000 nodes (`loading.limits`): an input error;
- evaluation: the steps and rendered characters below, per template: an input error;
- matching: an IAM pattern (a policy's action or resource) over RE2's memory budget of 8 MB
  (`model.wildcards`, which matches every pattern without backtracking): an input error;
- `Fn::ForEach`: over 10,000 generated entries or 20,000,000 characters of them (their JSON) in
  one section (`transforms.foreach.MAX_GENERATED`, `MAX_GENERATED_SIZE`): an input error;
- rule files: a selector of over MAX_SELECTOR_STEPS steps, a pattern RE2 refuses
  (`rules.patterns`): a rule-file error before any template is scanned;
- a baseline nested beyond Python's recursion limit: a baseline error (exit 2).
"""

from __future__ import annotations

from msgspec import Struct

from tapaudit.errors import InputError

# Evaluation steps (one per intrinsic function or resource name evaluated) for one template, all
# rules together: a base, and more for each resource, so that size alone is never refused.
MAX_STEPS = 20_000
MAX_STEPS_PER_RESOURCE = 20
# Characters in one rendered string (Fn::Sub, Fn::Join, names filled into ARNs). CloudFormation
# refuses a template body over 1 MB, and no function of it renders a longer string.
MAX_STRING = 1_000_000
# Characters rendered for one template in total: what many renderings of one large value cost.
MAX_RENDERED = 50_000_000
# Fn::If combinations of one value, and intrinsic functions nested in one another.
MAX_BRANCHES = 64
MAX_INTRINSIC_DEPTH = 40
# Steps of one rule selector (`$.Properties.A[0]` has three): the built-in rules use at most five.
MAX_SELECTOR_STEPS = 100


class BudgetExceeded(InputError):
    """A template asks for more evaluation than the limits above allow: it is not scanned."""


class Budget(Struct):
    """What one template has spent so far (kept in its memo, so each template starts afresh)."""

    steps: int = 0
    rendered: int = 0

    def step(self, resources: int) -> None:
        """One more step for a template of `resources` resources."""
        self.steps += 1
        allowed = MAX_STEPS + MAX_STEPS_PER_RESOURCE * resources
        if self.steps > allowed:
            raise BudgetExceeded(f"evaluating its intrinsic functions takes more than {allowed:,} "
                                 "steps (names or Fn::Sub that refer to each other many times "
                                 "over?)")

    def render(self, text: str) -> str:
        """`text`, counted against the string limits; call it on every string a function builds."""
        self._count(len(text))
        return text

    def join(self, separator: str, parts: list[str]) -> str:
        """`separator.join(parts)`, counted before it is built: an over-long result never takes
        the memory it would need."""
        self._count(sum(map(len, parts)) + len(separator) * max(len(parts) - 1, 0))
        return separator.join(parts)

    def _count(self, length: int) -> None:
        if length > MAX_STRING:
            raise BudgetExceeded(f"an intrinsic function renders a string of more than "
                                 f"{MAX_STRING:,} characters")
        self.rendered += length
        if self.rendered > MAX_RENDERED:
            raise BudgetExceeded(f"its intrinsic functions render more than {MAX_RENDERED:,} "
                                 "characters in total")
