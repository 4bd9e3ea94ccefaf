"""A rule of the course of care that refuses an action, as services raise it and interfaces report it.

Services raise `RuleRefused` (a gate, a signed record that cannot change); the API answers 409 with
`{"detail": <the sentence>, "code": <the rule's code>}` and the portal shows the sentence. Bad input is
a ValidationError instead (400 with field errors)."""


class RuleRefused(Exception):
    code = "rule_refused"

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self):
        return self.message
