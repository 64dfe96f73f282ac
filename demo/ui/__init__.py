"""The app's page (Gradio): one module per tab, built and wired by :func:`demo.ui.app.build_app`."""
