import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # nb-email-conn quickstart, in marimo

    This notebook runs against the **sandbox**: a real IMAP + SMTP server on `127.0.0.1` with
    a demo mailbox (~150 messages: threads, newsletters, invoices with PDF/CSV attachments,
    non-ASCII names). No real account is needed. To use your own mailbox, fill the form below
    with your provider's settings instead (use an app password).

    `marimo edit notebooks/quickstart_marimo.py` (or `marimo run` for the app view).
    """)
    return


@app.cell
def _():
    import marimo as mo

    import nb_email_conn as nec

    return mo, nec


@app.cell
def _(nec):
    cfg = nec.sandbox.start()  # attaches to the sandbox that `nb-email-conn demo` runs, or starts one here
    cfg
    return (cfg,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 1. The connection form

    Name, username, password, IMAP and SMTP host / port / encryption, **Test connection**,
    **Save**, and one policy per function. marimo shows the widget as it is: there is no need
    to wrap it in `mo.ui.anywidget` (wrapped, every edit of the form would re-run the cells
    that use `manager`). The password goes to the kernel in a private message; it is never
    stored in the notebook.
    """)
    return


@app.cell
def _(cfg, nec):
    manager = nec.ConnectionManager(cfg)
    manager
    return (manager,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 2. Connect and look around

    `manager.connection` is the live `EmailConnection`: the policies you pick in the form
    apply to it at once.
    """)
    return


@app.cell
def _(manager):
    conn = manager.connection
    conn.test_connection()
    return (conn,)


@app.cell
def _(conn):
    conn.list_folders()
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 3. Search: a DataFrame, newest first

    A Gmail-like query (`from:`, `subject:`, `after:`, `is:unread`, `has:attachment`, `-`, `OR`)
    and/or keyword criteria. Searching never marks anything as read.
    """)
    return


@app.cell
def _(conn):
    df = conn.search_emails()
    df[["date", "from_name", "subject", "seen", "has_attachments"]].head(10)
    return (df,)


@app.cell
def _(df):
    # Who writes the most?
    df.groupby("from_name").size().sort_values(ascending=False).head(8)
    return


@app.cell
def _(conn):
    invoices = conn.search_emails("subject:invoice has:attachment")
    invoices[["date", "from_name", "subject", "size"]]
    return (invoices,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 4. Read a message

    HTML is shown in a sandboxed frame: no scripts, no remote images.
    """)
    return


@app.cell
def _(conn, invoices):
    email = conn.get_email(invoices.iloc[0])
    email
    return (email,)


@app.cell
def _(email):
    csv = next(a for a in email.attachments if a.filename.endswith(".csv"))
    csv.to_dataframe()
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 5. Actions and approvals

    `send_email`, `delete_emails`, `update_flags`, `move_emails`, `copy_emails`,
    `reply_email` and `forward_email` default to *Enabled with confirmation*. marimo handles
    one request at a time, so your click reaches the kernel once the cell has ended:

    - call the **synchronous** form in a cell: it shows **Approve / Edit / Reject** and returns
      a pending handle at once; the call runs when you click. The handle as the cell's last
      expression shows the widget too.
    - `handle.add_done_callback(...)` with a `mo.state` setter: the cells that read that state
      run again with the outcome (below).
    - an **awaited** call (`await conn.send_email_async(...)`) in a cell could never receive the
      click, so it is refused at once with this advice; in a `mo.Thread` it may wait.

    The button keeps the send from running each time a cell above it runs again.
    """)
    return


@app.cell
def _(mo):
    get_outcome, set_outcome = mo.state("not sent yet")
    send_button = mo.ui.run_button(label="Send the invoice summary")
    send_button
    return get_outcome, send_button, set_outcome


@app.cell
def _(cfg, conn, invoices, mo, send_button, set_outcome):
    mo.stop(not send_button.value, mo.md("Click **Send the invoice summary** to ask for approval."))
    summary = invoices[["date", "from_name", "subject"]]
    handle = conn.send_email(
        cfg.username,
        "Invoice summary",
        f"{len(summary)} invoices this quarter; the list is attached.",
        attachments=[("invoices.csv", summary)],
    )
    handle.add_done_callback(lambda settled: set_outcome(settled.status))
    handle  # its approval widget
    return


@app.cell
def _(get_outcome, mo):
    mo.md(f"**send_email**: {get_outcome()}")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 6. For agents

    The enabled functions as tool schemas (OpenAI, Anthropic, LangChain) and a dispatcher that
    applies the same policies and approvals and always returns JSON.
    """)
    return


@app.cell
def _(conn):
    tools = conn.tools()
    [tool["function"]["name"] for tool in tools.openai()]
    return (tools,)


@app.cell
def _(tools):
    result = tools.dispatch("search_emails", {"query": "is:unread", "limit": 5})
    [row["subject"] for row in result["result"]["rows"]]
    return


@app.cell
def _(conn, df, tools):
    conn.policies["delete_emails"] = "disabled"
    tools.dispatch("delete_emails", {"refs": [df.iloc[0]["ref"]]})
    return


@app.cell
def _(conn):
    conn.audit_log()
    return


if __name__ == "__main__":
    app.run()
