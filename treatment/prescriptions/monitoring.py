"""Route-aware monitoring as data: which vitals a dosing session records (and when, after the dose) and how long
the patient stays observed, by route. The minutes come from the medical group's CarePolicy; the dosing record
(treatment.sessions.services.dosing_end) refuses to end a session before they are met."""

from dataclasses import dataclass

from treatment.course.models import CarePolicy, DosePlan
from treatment.sessions.models import VitalsReading

Phase = VitalsReading.Phase
# Readings a route needs besides the one before the dose and the one before discharge, as (phase, the policy
# field that says how many minutes after the dose).
TIMED_VITALS = {
    DosePlan.Route.INTRAMUSCULAR: ((Phase.PEAK, "peak_vitals_minutes_intramuscular"),),
}
# A reading "at 40 minutes" taken a little early still counts.
TIMED_VITALS_TOLERANCE_MINUTES = 5


@dataclass(frozen=True)
class Monitoring:
    route: str
    timed_vitals: tuple  # ((phase, minutes after the dose), ...)
    observation_minutes: int

    @property
    def vitals(self):
        """Every reading the route needs, in order: before the dose, the timed ones, before discharge."""
        return (Phase.PRE_DOSE, *(phase for phase, _minutes in self.timed_vitals), Phase.END)


def monitoring_for(policy: CarePolicy, route: str) -> Monitoring:
    timed = tuple((phase, getattr(policy, field)) for phase, field in TIMED_VITALS.get(route, ()))
    return Monitoring(route=route, timed_vitals=timed, observation_minutes=policy.monitoring_minutes(route))
