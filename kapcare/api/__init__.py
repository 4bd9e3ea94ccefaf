"""DRF foundations. Modules named in settings (pagination, permissions, errors) must not import
rest_framework.views at import time: DRF imports them while loading its own views."""
