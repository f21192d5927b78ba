"""The server (Starlette): arrives with the upload issue."""
