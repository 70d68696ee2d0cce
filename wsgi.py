import gc

from learnhub import create_app

app = create_app()

# What start-up built (the app, its templates' code, SQLAlchemy's and Babel's tables) lives as
# long as the worker: the cycle collector need not scan it again at every full collection
# (a country-wide dashboard page spent a quarter of its time there).
gc.freeze()
