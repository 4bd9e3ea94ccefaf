"""The patient's record as a FHIR R4 Bundle (type collection), built from `selectors.record_contents` with plain
dicts. Tests parse every resource with the fhir.resources R4B models.

What maps to what:
- Patient; Practitioner for each clinician named in the record; one CareTeam of the team's memberships.
- Condition: the diagnosis of each signed evaluation (ICD-10-CM when the prescriber coded it); before any signed
  evaluation, the referral's reasons as provisional conditions (text only: they are not coded).
- Consent: each signed consent document.
- Encounter: each therapy session (preparation, dosing, integration) and each signed follow-up visit.
- Observation: questionnaire totals (survey) with LOINC codes where one exists; the vital signs of dosing sessions
  in the FHIR vital-signs profile (BP panel with systolic/diastolic components, heart rate, SpO2).
- MedicationRequest: each signed dose plan version (the superseded ones stopped).
- AdverseEvent: each side-effect report.
- DocumentReference: each signed progress note (with its addenda), evaluation and follow-up visit. Psychotherapy
  notes never.
"""

import base64

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

# Questionnaire totals. PHQ-9 44261-6 and GAD-7 70274-6 (the issue); PCL-5 101698-9 "PTSD PCL-5 score [PCL-5]";
# the C-SSRS screener gives a risk level, not a sum: 93374-7 "Suicide risk level" (HL7 US Behavioral Health
# Profiles' C-SSRS example). An instrument without a confirmed code is exported with text only.
SCORE_CODES = {
    "phq9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "gad7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
    "pcl5": ("101698-9", "PTSD PCL-5 score [PCL-5]"),
    "cssrs": ("93374-7", "Suicide risk level"),
}
RISK_LEVEL_INSTRUMENTS = {"cssrs"}

ENCOUNTER_STATUS = {"scheduled": "planned", "completed": "finished", "cancelled": "cancelled", "no_show": "cancelled"}
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"


def _ref(resource_type, resource_id, display=None):
    reference = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def _loinc(code, display):
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _quantity(value, unit, code):
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _text_attachment(text, title):
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return {"contentType": "text/plain; charset=utf-8", "data": data, "title": title}


def record_bundle(contents: dict, *, base_url: str) -> dict:
    """A FHIR R4 Bundle of type collection; `base_url` makes each entry's fullUrl."""
    patient_id = contents["patient"]["id"]
    subject = _ref("Patient", patient_id, f"{contents['patient']['first_name']} {contents['patient']['last_name']}")
    resources = [_patient(contents["patient"])]
    resources += _practitioners(contents)
    resources += _care_team(contents, subject)
    resources += _conditions(contents, subject)
    resources += [_consent(consent, subject) for consent in contents["consents"]]
    resources += _encounters(contents, subject)
    resources += [_score(response, subject) for response in contents["questionnaires"]]
    resources += _vital_signs(contents, subject)
    resources += [_medication_request(plan, subject) for plan in contents["dose_plans"]]
    resources += [_adverse_event(event, subject) for event in contents["side_effects"]]
    resources += _documents(contents, subject)
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": contents["generated_at"],
        "entry": [
            {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }


def _patient(patient):
    telecom = [{"system": "email", "value": patient["email"]}]
    if patient["phone"]:
        telecom.append({"system": "phone", "value": patient["phone"]})
    resource = {
        "resourceType": "Patient",
        "id": patient["id"],
        "name": [{"family": patient["last_name"], "given": [patient["first_name"]]}],
        "birthDate": patient["date_of_birth"],
        "telecom": telecom,
        "address": [{"state": patient["state"], "country": "US"}],
    }
    emergency = patient["emergency_contact"]
    if emergency["name"]:
        contact = {"relationship": [{"text": emergency["relationship"] or "Emergency contact"}]}
        contact["name"] = {"text": emergency["name"]}
        if emergency["phone"]:
            contact["telecom"] = [{"system": "phone", "value": emergency["phone"]}]
        resource["contact"] = [contact]
    return resource


def _clinicians(contents):
    """Every clinician the record names, by id: the team, and the authors of its signed records."""
    named = {member["clinician_id"]: member["name"] for member in contents["care_team"]}
    for record in contents["evaluations"] + contents["dose_plans"] + contents["follow_ups"]:
        named.setdefault(record["prescriber_id"], record["prescriber"])
    for session in contents["sessions"]:
        if session["therapist_id"]:
            named.setdefault(session["therapist_id"], session["therapist"])
        if session["note"]:
            named.setdefault(session["note"]["author_id"], session["note"]["author"])
    return named


def _practitioners(contents):
    return [
        {"resourceType": "Practitioner", "id": clinician_id, "name": [{"text": name}]}
        for clinician_id, name in _clinicians(contents).items()
    ]


def _care_team(contents, subject):
    if not contents["care_team"]:
        return []
    participants = []
    for member in contents["care_team"]:
        period = {"start": member["active_from"]}
        if member["active_to"]:
            period["end"] = member["active_to"]
        participants.append(
            {
                "role": [{"text": member["role"].capitalize()}],
                "member": _ref("Practitioner", member["clinician_id"], member["name"]),
                "period": period,
            }
        )
    return [
        {
            "resourceType": "CareTeam",
            "id": f"{subject['reference'].split('/')[1]}-care-team",
            "status": "active",
            "name": "Ketamine-assisted psychotherapy care team",
            "subject": subject,
            "participant": participants,
        }
    ]


def _conditions(contents, subject):
    diagnosed = [evaluation for evaluation in contents["evaluations"] if evaluation["diagnosis"]]
    if diagnosed:
        return [_diagnosis(evaluation, subject) for evaluation in diagnosed]
    referral = contents["referral"] or {"reasons": [], "referred_at": None}
    return [
        {
            "resourceType": "Condition",
            "id": f"{subject['reference'].split('/')[1]}-referral-{index}",
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "provisional",
                    }
                ]
            },
            "category": [{"text": "Reason for referral"}],
            "code": {"text": reason},
            "subject": subject,
            **({"recordedDate": referral["referred_at"]} if referral["referred_at"] else {}),
        }
        for index, reason in enumerate(referral["reasons"], start=1)
    ]


def _diagnosis(evaluation, subject):
    code = {"text": evaluation["diagnosis"]}
    if evaluation["icd10_code"]:
        code["coding"] = [{"system": ICD10CM, "code": evaluation["icd10_code"]}]
    return {
        "resourceType": "Condition",
        "id": f"{evaluation['id']}-diagnosis",
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": code,
        "subject": subject,
        "recordedDate": evaluation["signed_at"],
        "recorder": _ref("Practitioner", evaluation["prescriber_id"], evaluation["prescriber"]),
    }


def _consent(consent, subject):
    return {
        "resourceType": "Consent",
        "id": f"consent-signature-{consent['id']}",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy" if consent["kind"] == "release_of_information" else "treatment",
                }
            ]
        },
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}], "text": consent["title"]}],
        "patient": subject,
        "dateTime": consent["signed_at"],
        "policyRule": {"text": f"{consent['title']}, version {consent['version']}"},
        "sourceAttachment": {"title": f"{consent['title']} (version {consent['version']})"},
    }


def _encounters(contents, subject):
    encounters = []
    for session in contents["sessions"]:
        period = {"start": session["scheduled_at"]}
        if session["completed_at"]:
            period["end"] = session["completed_at"]
        encounter = {
            "resourceType": "Encounter",
            "id": session["id"],
            "status": ENCOUNTER_STATUS.get(session["status"], "unknown"),
            "class": {"system": ACT_CODE, "code": "VR" if session["modality"] == "remote" else "AMB"},
            "type": [{"text": f"{session['kind_label']} session (ketamine-assisted psychotherapy)"}],
            "subject": subject,
            "period": period,
        }
        if session["therapist_id"]:
            encounter["participant"] = [{"individual": _ref("Practitioner", session["therapist_id"])}]
        encounters.append(encounter)
    for visit in contents["follow_ups"]:
        encounters.append(
            {
                "resourceType": "Encounter",
                "id": visit["id"],
                "status": "finished",
                "class": {"system": ACT_CODE, "code": "AMB"},
                "type": [{"text": "Prescriber follow-up visit"}],
                "subject": subject,
                "period": {"start": visit["signed_at"]},
                "participant": [{"individual": _ref("Practitioner", visit["prescriber_id"])}],
            }
        )
    return encounters


def _score(response, subject):
    known = SCORE_CODES.get(response["instrument"])
    code = _loinc(*known) if known else {"text": f"{response['instrument_name']} total score"}
    observation = {
        "resourceType": "Observation",
        "id": response["id"],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": code,
        "subject": subject,
        "effectiveDateTime": response["submitted_at"],
    }
    if response["instrument"] in RISK_LEVEL_INSTRUMENTS:
        observation["valueCodeableConcept"] = {"text": response["severity"] or "Not stated"}
    else:
        observation["valueInteger"] = response["total_score"]
        if response["severity"]:
            observation["interpretation"] = [{"text": response["severity"]}]
    return observation


def _vital(reading_id, suffix, profile, code, subject, encounter_id, taken_at, **value):
    return {
        "resourceType": "Observation",
        "id": f"{reading_id}-{suffix}",
        "meta": {"profile": [f"http://hl7.org/fhir/StructureDefinition/{profile}"]},
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": code,
        "subject": subject,
        "encounter": _ref("Encounter", encounter_id),
        "effectiveDateTime": taken_at,
        **value,
    }


def _vital_signs(contents, subject):
    observations = []
    for session in contents["sessions"]:
        for reading in session["vitals"]:
            common = (subject, session["id"], reading["taken_at"])
            observations.append(
                _vital(
                    reading["id"],
                    "bp",
                    "bp",
                    _loinc("85354-9", "Blood pressure panel with all children optional"),
                    *common,
                    component=[
                        {
                            "code": _loinc("8480-6", "Systolic blood pressure"),
                            "valueQuantity": _quantity(reading["systolic"], "mmHg", "mm[Hg]"),
                        },
                        {
                            "code": _loinc("8462-4", "Diastolic blood pressure"),
                            "valueQuantity": _quantity(reading["diastolic"], "mmHg", "mm[Hg]"),
                        },
                    ],
                )
            )
            observations.append(
                _vital(
                    reading["id"],
                    "hr",
                    "heartrate",
                    _loinc("8867-4", "Heart rate"),
                    *common,
                    valueQuantity=_quantity(reading["pulse"], "beats/minute", "/min"),
                )
            )
            if reading["spo2"] is not None:
                observations.append(
                    _vital(
                        reading["id"],
                        "spo2",
                        "oxygensat",
                        _loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
                        *common,
                        valueQuantity=_quantity(reading["spo2"], "%", "%"),
                    )
                )
    return observations


def _medication_request(plan, subject):
    dose = {"text": plan["instructions_patient"] or "As directed by the prescriber."}
    if plan["route_label"]:
        dose["route"] = {"text": plan["route_label"]}
    if plan["first_dose_mg"]:
        dose["doseAndRate"] = [{"doseQuantity": _quantity(float(plan["first_dose_mg"]), "mg", "mg")}]
    notes = [f"Dose plan version {plan['version']}; full dose {plan['full_dose_mg']} mg."]
    if plan["doses_authorized"]:
        notes.append(f"Dosing sessions authorized: {plan['doses_authorized']}.")
    if plan["boosters_allowed"]:
        notes.append(f"Boosters: up to {plan['booster_count']} of {plan['booster_mg']} mg.")
    if plan["benzodiazepine_hold"]:
        notes.append(f"Benzodiazepine hold: {plan['benzodiazepine_hold']}")
    return {
        "resourceType": "MedicationRequest",
        "id": plan["id"],
        "status": "active" if plan["status"] == "signed" else "stopped",
        "intent": "order",
        "medicationCodeableConcept": {"text": plan["medication"].capitalize()},
        "subject": subject,
        "authoredOn": plan["signed_at"],
        "requester": _ref("Practitioner", plan["prescriber_id"], plan["prescriber"]),
        "dosageInstruction": [dose],
        "note": [{"text": " ".join(notes)}],
    }


def _adverse_event(event, subject):
    resource = {
        "resourceType": "AdverseEvent",
        "id": event["id"],
        "actuality": "actual",
        "event": {"text": event["kind_label"] + (f": {event['description']}" if event["description"] else "")},
        "subject": subject,
        "date": event["reported_at"],
        "severity": {"coding": [{"system": ADVERSE_EVENT_SEVERITY, "code": event["severity"]}]},
    }
    if event["session_id"]:
        resource["encounter"] = _ref("Encounter", event["session_id"])
    return resource


def _documents(contents, subject):
    documents = []
    for session in contents["sessions"]:
        note = session["note"]
        if note is None:
            continue
        text = note["body"] + "".join(
            f"\n\nAddendum signed {addendum['signed_at']}:\n{addendum['body']}" for addendum in note["addenda"]
        )
        documents.append(
            _document(
                note["id"],
                f"Progress note: {session['kind_label'].lower()} session",
                text,
                subject,
                note["signed_at"],
                note["author_id"],
                encounter_id=session["id"],
            )
        )
    for evaluation in contents["evaluations"]:
        text = "\n\n".join(
            f"{label}: {evaluation[field]}"
            for label, field in (
                ("Psychiatric assessment", "psychiatric_assessment"),
                ("Medical assessment", "medical_assessment"),
                ("Diagnosis", "diagnosis"),
                ("Decision", "decision_label"),
                ("Rationale", "rationale"),
            )
        ) + "".join(f"\n\nAddendum signed {a['signed_at']}:\n{a['text']}" for a in evaluation["addenda"])
        documents.append(
            _document(
                evaluation["id"],
                "Prescriber's evaluation for ketamine-assisted psychotherapy",
                text,
                subject,
                evaluation["signed_at"],
                evaluation["prescriber_id"],
            )
        )
    for visit in contents["follow_ups"]:
        text = "\n\n".join(
            f"{label}: {visit[field]}"
            for label, field in (
                ("Symptoms and progress", "symptoms"),
                ("Side effects", "side_effects"),
                ("Decision", "decision_label"),
                ("Rationale", "rationale"),
            )
        )
        documents.append(
            _document(
                visit["id"],
                "Prescriber's follow-up visit",
                text,
                subject,
                visit["signed_at"],
                visit["prescriber_id"],
                encounter_id=visit["id"],
            )
        )
    return documents


def _document(document_id, title, text, subject, signed_at, author_id, *, encounter_id=None):
    resource = {
        "resourceType": "DocumentReference",
        "id": document_id,
        "status": "current",
        "docStatus": "final",
        "type": {"text": title},
        "subject": subject,
        "date": signed_at,
        "author": [_ref("Practitioner", author_id)],
        "content": [{"attachment": _text_attachment(text, title)}],
    }
    if encounter_id:
        resource["context"] = {"encounter": [_ref("Encounter", encounter_id)]}
    return resource
