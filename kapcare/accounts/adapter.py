from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by referral or by an administrator, never by public sign-up."""

    def is_open_for_signup(self, request):
        return False
