"""tests/arena: the arena (agent/arena) over HTTP, with the official kaggle client and in a browser.

helpers.py holds the fixtures (a real arena on 127.0.0.1) that tests/sources imports too.
"""
