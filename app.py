"""Web app entry point (Hugging Face Spaces runs ``python app.py``); the same as ``tagger app``.

    python app.py [--models-dir DIR] [--share] [--port N]   # options: demo/launch.py

Kept this thin on purpose: the training worker is a spawned process, which re-imports this file.
"""

from demo.launch import main

if __name__ == "__main__":
    main()
