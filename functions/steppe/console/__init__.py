"""The analysts' console: the static files of the single-page UI that /console/ serves.

The files hold no data; every datum comes from the analyst API with the
caller's own key.
"""
