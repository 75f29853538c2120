"""What every HTTP server of the kit shares (mock platform nodes, reference system), independent of who is
served: storage (`store`: SQLite, `pgstore`: PostgreSQL), binding and serving on 127.0.0.1 (`server`), one
request pipeline in the norm's check order (`pipeline`), MSG-02 errors (`errors`) and the MSG-04 body
steps (`http`: size, media type, parsing)."""
