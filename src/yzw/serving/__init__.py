"""What every HTTP server of the kit shares (mock platform nodes, reference system): MSG-02 errors and the
MSG-04 request steps (size, media type, parsing), independent of who is served."""
