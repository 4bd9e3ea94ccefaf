import base64
from functools import lru_cache

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by referral or by an administrator, never by public sign-up."""

    def is_open_for_signup(self, request):
        return False

    def _get_login_attempts_cache_key(self, request, **credentials):
        """Failed logins count per account *from one address* (and, by ACCOUNT_RATE_LIMITS, per address).

        allauth counts them per account alone, so anyone who knows a clinician's e-mail could keep that
        clinician out with five wrong passwords every five minutes. Counting per account and address
        throttles a guesser without locking out the real person, who signs in from elsewhere; guessing
        spread over many addresses still meets the password rules and, for staff, the second factor."""
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"


@lru_cache(maxsize=4)
def _fernet(keys):
    def derive(key):
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"kapcare.mfa.secrets")
        return Fernet(base64.urlsafe_b64encode(hkdf.derive(key.encode())))

    return MultiFernet([derive(key) for key in keys])


def mfa_fernet():
    """Encrypts with a key derived from SECRET_KEY; also decrypts with SECRET_KEY_FALLBACKS, so the secret
    key can be rotated the way Django rotates it (move the old key to the fallbacks) without re-enrolment."""
    return _fernet((settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))


class MFAAdapter(DefaultMFAAdapter):
    """Second-factor secrets (the TOTP key, the recovery-code seed) are stored encrypted, never in the clear.

    Rows written before encryption were encrypted by the accounts migration `encrypt_mfa_secrets`."""

    def encrypt(self, text):
        return mfa_fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text):
        return mfa_fernet().decrypt(encrypted_text.encode()).decode()
