"""The deterministic default :class:`InjectionDetector`: weighted regular-expression rules.

Each rule has a weight; the text is flagged when the weights of the rules that fired add up
to at least 2. Strong rules (weight 2) are phrases that have almost no business use
("ignore all previous instructions", chat-template tokens, text addressing an AI assistant,
mailguard's own tool names); weak rules (weight 1) need company (a request to use a tool,
to forward mailbox contents somewhere, to keep something from the user).
Measured by ``bench/injection.py`` over a labelled corpus.

The package: ``patterns`` (shared pieces of the rules), one rules table per family
(``rules_core``: the original English rules; ``rules_tasks``: task-style requests, role
lines, exfiltration and concealment (issue 19); ``rules_multilingual``: de/fr/es/it/zh
variants), ``triggers`` (the cheap word and substring triggers per rule), ``plan`` (the rules
in order with their triggers as bit masks), ``variants`` (de-obfuscated readings) and
``detector`` (:class:`RuleBasedDetector`, :class:`AnyDetector`).
"""

from mailguard_core.sanitize.injection.detector import AnyDetector, RuleBasedDetector
from mailguard_core.sanitize.injection.plan import RULES
from mailguard_core.sanitize.injection.variants import variants

__all__ = ["RULES", "AnyDetector", "RuleBasedDetector", "variants"]
