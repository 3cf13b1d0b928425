"""Hugging Face Spaces entry point (SDK: Gradio, app file `app.py`): the lesson7ext web page, unchanged.

Locally, `lesson7ext-app` serves the same page with more options (`lesson7ext-app --help`)."""
from lesson7ext.app import app

demo = app()

if __name__ == '__main__': demo.launch(max_file_size=int(demo.max_file_size_mb * 2**20))
