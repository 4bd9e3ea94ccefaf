# ruff: noqa: E501 (prose: one paragraph a line, so the stored text wraps where the reader's screen does)
"""Version 1 of the consent documents and the education modules, from kap-domain.md section 4.

The seed migration publishes these, and `seed()` can put them back after a test flush or in a demo
database. Do not edit a version-1 text here once it has been signed anywhere: publish a new version
in the admin instead, so every patient is asked to sign the new text.
"""

KAP_INFORMED_CONSENT = """\
This document explains ketamine-assisted psychotherapy (KAP) as your care team offers it. Please read it carefully and ask your prescriber or therapist about anything that is unclear before you sign.

What KAP is
KAP combines psychotherapy with ketamine taken under a prescriber's care. Your therapist meets you to prepare, stays with you (in person or by video) during each dosing session, and helps you make sense of the experience in integration sessions afterwards. Your prescriber evaluates whether ketamine is safe for you, writes the prescription, follows up with you about 30 days after your intake and adjusts the dose.

Off-label use
Ketamine is approved by the US Food and Drug Administration (FDA) only as an anesthetic. Using it to treat depression, anxiety, PTSD or other mental health conditions is "off-label". The tablets or lozenges you may be prescribed are made by a compounding pharmacy for you; compounded medicines are not FDA-approved, and their safety, effectiveness and quality have not been evaluated by the FDA.

A controlled substance
Ketamine is a Schedule III controlled substance. It can be misused and can lead to dependence. Take it only as prescribed, only during planned sessions, keep it locked away from others, and never share it. Your prescriber keeps track of the doses prescribed and taken.

What you may feel
Within about 15 to 20 minutes you may feel detached from your body or surroundings (dissociation), notice changes in how things look, sound or feel, move and speak less, and lose track of time. The main effects last about 45 minutes and fade over one to two hours. Any benefit may last up to about two weeks after a session, which is why sessions are repeated.

Risks and side effects
Common: a rise in blood pressure and heart rate, nausea and vomiting, dizziness, double or blurred vision, drowsiness, an unpleasant mood (dysphoria) and confusion.
Less common or rare: anxiety or agitation as the medicine takes effect or wears off, slowed breathing (rare, mostly with high doses), bladder and urinary problems with frequent or long-term use, liver problems with repeated use, and psychiatric symptoms that get worse or last days to weeks.
You measure your blood pressure and pulse before each dose. If they are outside the limits your care team sets, the dose is not taken that day.

How treatment goes
We start with a low dose and adjust it: the first sessions show how sensitive you are to ketamine. A typical course is six to eight dosing sessions with an integration session between each pair, possibly followed by less frequent maintenance sessions. There are other treatments for your condition, such as psychotherapy alone, other medicines, esketamine (Spravato) in a certified clinic, TMS or ECT; your prescriber can discuss them with you.

Your safety after a dose
Do not drive, cycle or operate machinery until the next day, after a night of restful sleep. Arrange a ride if you dose away from home. Do not drink alcohol or use cannabis for 24 hours, and do not make important decisions until the next day.

Your right to stop
Taking part is your choice. You may stop treatment or withdraw this consent at any time, except during a session once you have taken the medicine: then you stay with your therapist and chaperone until the effects have worn off and it is safe to end the session.

In an emergency
If you have thoughts of harming yourself, chest pain, a severe headache, trouble breathing or other serious symptoms, call 911 or go to the nearest emergency department. You can call or text 988 (Suicide & Crisis Lifeline) at any time.

By signing, I confirm that I have read this document, that I have been able to ask questions about it, and that I agree to ketamine-assisted psychotherapy on these terms.
"""

REMOTE_DOSING_CHAPERONE = """\
This agreement applies to any dosing session you take at home or anywhere other than your therapist's office, with your therapist joining by video.

During every remote session
Your therapist is on video with you for the whole session, usually two to three hours. Keep your device charged and connected, and keep your phone on do-not-disturb except for calls from your care team.

Your chaperone
A chaperone is required for every remote session. Your chaperone is a trusted adult, 18 or older, who is physically present where you dose, sober, and not taking ketamine themselves. You give their name and phone number in your profile before the first session. Your chaperone agrees to:
- be in the home for the whole session and until you are alert and moving safely;
- check on you in person at the agreed interval, for example a visual check every 15 minutes;
- answer your therapist's calls and follow the therapist's instructions;
- help you move around (for example to the bathroom), because you may be unsteady;
- call 911 in an emergency, then tell your therapist.
If your chaperone cannot come, the session is postponed.

Before the session
Do not eat for about 6 hours before (or as your prescriber advises); small sips of clear liquid are fine. Have your blood pressure cuff, prescription, a cup to spit into, an eye mask, headphones or music, anti-nausea support if prescribed, a journal and a snack for afterwards. Keep pets and children away. If your prescriber asks you to pause a benzodiazepine or another medicine, do so as instructed and tell your therapist if you could not.

Vitals
You measure your blood pressure and pulse before taking the medicine and at the end of the session, and read them to your therapist. If they are outside the limits your care team sets, the dose is not taken.

After the session
Do not drive, cycle or operate machinery until the next day, after a night of restful sleep. Your chaperone stays until you are alert and can move safely.

By signing, I agree to follow these rules for every remote session, and I confirm that I will tell my chaperone what is asked of them.
"""

RELEASE_OF_INFORMATION = """\
Ketamine-assisted psychotherapy here is collaborative: a prescriber and a therapist care for you together, and each needs to know what the other is doing to keep you safe.

What I authorize
I authorize my prescriber (and the medical group they work for) and my therapist (and the practice they work for), as listed on my care team in KAPCare, to share with each other information about my care in ketamine-assisted psychotherapy.

What may be shared
My referral and intake information, medical and psychiatric history, medications, questionnaire scores, the prescriber's evaluation and treatment plan, dose plans, dosing session records and vital signs, side effects and adverse events, summaries of preparation and integration sessions, and safety concerns.

What is not shared
A therapist's private psychotherapy notes (notes about the content of counselling conversations kept apart from the record) are not shared under this release.

Why
To decide whether ketamine is safe for me, plan and adjust doses, coordinate sessions, respond to side effects and emergencies, and follow my progress.

Changes to my care team
If a new prescriber or therapist joins my care team, this release covers them too; I can see who is on my care team in my portal. Coordinators of the medical group see my stage of care and consent status to organise my care, not my clinical notes.

How long it lasts and how to revoke it
This release lasts while I am in ketamine-assisted psychotherapy with this care team and for one year after it ends, unless I revoke it sooner. I may revoke it at any time by telling my care team in writing. Revoking does not undo sharing that has already happened. Because safe KAP depends on this sharing, revoking it may mean that treatment cannot continue.

My rights
My treatment does not depend on signing any release other than this one. Information shared under this release stays protected by the privacy laws that apply to my care team. I may ask for a copy of this release.

By signing, I authorize this sharing of information between my prescriber and my therapist.
"""

CONSENT_TO_TOUCH = """\
Some people find supportive touch comforting during an in-person dosing session; others prefer none. This document records your choice. It is optional: if you do not sign it, your therapist will not touch you during sessions, except to keep you safe in an emergency.

What supportive touch may include
- holding your hand, or resting a hand on your hand, forearm or shoulder;
- helping you sit up, stand or walk, for example to the bathroom;
- adjusting your eye mask, headphones or blanket.
Touch never includes any other part of your body, and it is never sexual.

How it works
We agree on the kinds of touch you are comfortable with in a preparation session, before you take any medicine. During a session your therapist asks before touching you when it is possible to ask. You can say no, or stop, at any moment, with words or a gesture agreed in advance, and your therapist will stop at once. Because ketamine changes how touch feels, your therapist keeps to what was agreed while you were not under its effects.

Remote sessions
In remote sessions your chaperone may need to steady you or help you move; talk with your chaperone beforehand about what is comfortable for you.

Changing your mind
You can withdraw this consent at any time by telling your therapist. A safety intervention in an emergency (for example, stopping a fall) is always allowed.

By signing, I agree to supportive touch as described here, within the choices I discuss with my therapist, and I understand I can say no at any moment.
"""

CONSENT_DOCUMENTS = [
    {
        "kind": "kap_informed_consent",
        "title": "Informed consent to ketamine-assisted psychotherapy",
        "body": KAP_INFORMED_CONSENT,
        "required": True,
    },
    {
        "kind": "remote_dosing_chaperone",
        "title": "Remote dosing and chaperone agreement",
        "body": REMOTE_DOSING_CHAPERONE,
        "required": True,
    },
    {
        "kind": "release_of_information",
        "title": "Release of information between your prescriber and your therapist",
        "body": RELEASE_OF_INFORMATION,
        "required": True,
    },
    {
        "kind": "consent_to_touch",
        "title": "Consent to touch (optional)",
        "body": CONSENT_TO_TOUCH,
        "required": False,
    },
]

WHAT_IS_KAP = """\
Ketamine-assisted psychotherapy (KAP) combines talking therapy with a medicine, ketamine, that can loosen fixed patterns of thought and mood for a while. The therapy is what turns that window into lasting change.

Who does what
Your therapist referred you and stays your main guide: they meet you to prepare, sit with you during each dosing session (in person or by video) and help you integrate what came up. Your prescriber, a medical clinician, checks that ketamine is safe for you, prescribes it, sets the dose and follows up about 30 days after your intake. The two share what they need to know about your care.

What a course looks like
After your intake and evaluation you have at least one preparation session with your therapist. Then come dosing sessions, usually about every two weeks, with an integration session between each pair. A typical course is six to eight dosing sessions; some people then continue with occasional maintenance sessions.

What to expect from it
Many people feel some relief within the first few sessions, and any benefit from one session may last up to about two weeks. Not everyone responds. You will fill in short questionnaires along the way so that you and your care team can see how things are changing.

Ketamine is used off-label for mental health: it is FDA-approved only as an anesthetic. Your informed consent explains this and the risks in detail.
"""

HOW_TO_PREPARE = """\
Good preparation makes sessions safer and more useful. Go through this list before every dosing session.

The day before
- Arrange your chaperone (a trusted adult, 18 or older, who stays with you in person for a remote session) or your ride home from the office. You must not drive, cycle or operate machinery until the next day, after a night of restful sleep.
- If your prescriber asked you to pause a benzodiazepine (such as lorazepam, clonazepam or alprazolam) or another medicine, follow their instructions exactly. Tell your therapist if you could not.
- Avoid alcohol and cannabis.

Fasting
Do not eat for about 6 hours before your session, or as your prescriber advises. Small sips of clear liquid are fine. An empty stomach lowers the chance of nausea.

What to have ready (for a session at home)
- blood pressure cuff (a wrist cuff is fine) and your prescription;
- a cup to spit into, an eye mask, headphones or a playlist;
- anti-nausea medicine if it was prescribed, a journal and a snack for afterwards;
- your phone on do-not-disturb, except for calls from your care team;
- a quiet, comfortable room with pets and children kept away.

Intentions
Think about what you hope to explore, and talk about it with your therapist in your preparation session. Intentions are a compass, not a plan.

Just before the dose
Take your blood pressure and pulse and read them to your therapist. If they are outside your care team's limits, the dose waits for another day.
"""

WHAT_IT_FEELS_LIKE = """\
Everyone's experience is different, and the same person can feel different things from one session to the next.

Timing
With a tablet or lozenge held in the mouth, effects usually start after 15 to 20 minutes, are strongest at about 40 minutes and fade over one to two hours. The main effects last about 45 minutes.

What you may notice
- feeling detached from your body or your surroundings, or floating;
- changes in how things look, sound or feel, including your sense of time;
- moving and speaking less, and feeling heavy or relaxed;
- vivid memories, images or emotions, pleasant or difficult.

Side effects
Nausea, dizziness, double or blurred vision, drowsiness and feeling unsteady are common and pass as the medicine wears off. Stay lying or sitting down and ask for help to walk. Your blood pressure and heart rate rise for a while; that is why they are measured.

If it gets difficult
Difficult moments are part of the process and pass. Breathe slowly, remember you have taken a medicine whose effects will fade, and tell your therapist what is happening. You are not alone in the session.

Afterwards
You may feel tired, tender or unusually open for the rest of the day. Rest, eat something light, and stay with your chaperone until you are alert and moving safely. No driving until the next day.
"""

INTEGRATION = """\
Integration is where the work of KAP continues: making meaning of what you experienced and carrying it into your daily life.

Integration sessions
You meet your therapist between every pair of dosing sessions. You talk about what came up, what it might mean, and what you want to do differently. With some low-dose approaches integration can happen the same day.

Between sessions
- Write down images, feelings and thoughts soon after a session, while they are fresh.
- Notice small changes in mood, sleep, relationships and habits.
- Keep up with the questionnaires in your portal; they help your care team see your progress and adjust your dose.
- Be gentle with yourself: insights can take days to settle.

When to reach out
Tell your care team about side effects, a mood that gets worse, or anything that worries you. If you have thoughts of harming yourself, call or text 988 (Suicide & Crisis Lifeline) or call 911.

Your follow-up with the prescriber
About 30 days after your intake your prescriber meets you to review how you are doing and to decide the next doses.
"""

EDUCATION_MODULES = [
    {
        "slug": "what-is-kap",
        "title": "What ketamine-assisted psychotherapy is",
        "summary": "Who does what, what a course looks like and what to expect.",
        "body": WHAT_IS_KAP,
        "order": 10,
    },
    {
        "slug": "how-to-prepare",
        "title": "How to prepare for a dosing session",
        "summary": "Fasting, your ride home or chaperone, no driving until the next day, medicines to pause.",
        "body": HOW_TO_PREPARE,
        "order": 20,
    },
    {
        "slug": "what-it-feels-like",
        "title": "What the medicine feels like",
        "summary": "Timing, common effects and side effects, and what to do when it gets difficult.",
        "body": WHAT_IT_FEELS_LIKE,
        "order": 30,
    },
    {
        "slug": "integration",
        "title": "Integration: after the session",
        "summary": "Making meaning of the experience and carrying it into daily life.",
        "body": INTEGRATION,
        "order": 40,
    },
]


def seed(consent_document_model, education_module_model, now):
    """Create whatever of version 1 and the modules is missing. Idempotent; never changes a row."""
    for document in CONSENT_DOCUMENTS:
        consent_document_model.objects.get_or_create(
            kind=document["kind"],
            version=1,
            defaults={**{k: v for k, v in document.items() if k != "kind"}, "published_at": now},
        )
    for module in EDUCATION_MODULES:
        education_module_model.objects.get_or_create(
            slug=module["slug"], defaults={k: v for k, v in module.items() if k != "slug"}
        )


def seed_current():
    """`seed()` on the live models, for tests after a flush and for demo data."""
    from django.utils import timezone

    from .models import ConsentDocument, EducationModule

    seed(ConsentDocument, EducationModule, timezone.now())
