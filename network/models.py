"""The network's models live in sub-packages; each is imported here so Django finds it."""

from network.joining.models import Application, ApplicationDEARegistration, ApplicationLicence, CredentialCheck

__all__ = ["Application", "ApplicationDEARegistration", "ApplicationLicence", "CredentialCheck"]
