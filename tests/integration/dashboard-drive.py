"""The dashboard test's browser side (test-dashboard.sh runs it in a client namespace):
signs in with a token, finds the connected users, watches alice's byte counts grow
live, checks that a user name made of HTML is shown as text and runs nothing, saves
screenshots (desktop and phone), and disconnects alice from the page.
Usage: dashboard-drive.py URL TOKEN SPKI OUTDIR XSS-USER"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

url, token, spki, out, xss_user = sys.argv[1:6]
log = open(os.path.join(out, "chromium.log"), "wb")
b = Browser(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", f"--user-data-dir={out}/profile",
             f"--ignore-certificate-errors-spki-list={spki}", "--window-size=1280,900"], log)


def step(text):
    print(f"dashboard: {text}", flush=True)


try:
    b.open(url)
    b.wait("document.readyState === 'complete' && !document.getElementById('login').hidden",
           what="the sign-in form")
    step("sign-in form shown without a token")
    b.eval(f"document.getElementById('token').value = {json.dumps(token)};"
           "document.getElementById('login-form').requestSubmit(); true")
    b.wait("!document.getElementById('app').hidden", what="the dashboard after sign-in")
    who = b.eval("document.getElementById('who').textContent")
    assert who == "token:ops (admin)", who
    step(f"signed in as {who}")

    rows = "[...document.querySelectorAll('#sessions tbody tr')].map(r => r.dataset.user)"
    b.wait(f"{rows}.includes('alice') && {rows}.includes({json.dumps(xss_user)})",
           what="alice and the HTML-named user in the sessions table")
    rx = "Number(document.querySelector('#sessions tr[data-user=\"alice\"] .rx').dataset.bytes)"
    first = b.eval(rx)
    b.wait(f"{rx} > {first} + 20000", timeout=20, what="alice's received bytes to grow")
    second = b.eval(rx)
    step(f"alice's received bytes grow live: {first} -> {second}")
    shown = b.eval("document.querySelector('#sessions tr[data-user=\"alice\"] .rx').textContent")
    step(f"shown as {shown!r}")
    graph = b.eval("document.getElementById('total-rx').textContent")
    assert graph.endswith("/s") and not graph.startswith("0 bytes"), graph
    step(f"total bandwidth: {graph}")

    # The HTML user: its name is the text of its cell, nothing in it became markup or ran.
    cell = b.eval("[...document.querySelectorAll('#sessions tbody tr')]"
                  f".find(r => r.dataset.user === {json.dumps(xss_user)})"
                  ".querySelector('td.user').textContent")
    assert cell == xss_user, cell
    assert b.eval("document.querySelectorAll('#sessions img, #sessions b, #sessions script').length") == 0
    assert b.eval("window.__xss === undefined")
    step("the HTML user name is shown as text and ran nothing")

    time.sleep(10)  # a few points of graph for the screenshot
    b.screenshot(os.path.join(out, "dashboard.png"), 1280, 800)
    b.screenshot(os.path.join(out, "dashboard-phone.png"), 390, 844, mobile=True)
    overflow = b.eval("document.documentElement.scrollWidth")
    assert overflow <= 390, f"the page is {overflow} px wide on a 390 px phone"
    step(f"screenshots saved; on a phone the page fits ({overflow} px)")
    b.send("Emulation.clearDeviceMetricsOverride")

    # History of alice, from the audit log.
    b.eval("[...document.querySelectorAll('#sessions tbody tr')].find(r => r.dataset.user === 'alice')"
           ".querySelector('td.user button').click(); true")
    b.wait("!document.getElementById('tab-history').hidden && "
           "[...document.querySelectorAll('#history tbody td')].some(t => t.textContent === 'session-start')",
           what="alice's history")
    step("alice's history lists her session start")
    b.eval("document.getElementById('history-back').click(); true")

    # Disconnect alice from the page (the confirmation is accepted).
    b.wait("!!document.querySelector('#sessions tr[data-user=\"alice\"] button[data-action=disconnect]')",
           what="alice's disconnect button")
    b.eval("document.querySelector('#sessions tr[data-user=\"alice\"] button[data-action=disconnect]').click(); true")
    b.wait(f"!{rows}.includes('alice')", timeout=20, what="alice to leave the table")
    assert any("Disconnect alice" in d for d in b.dialogs), b.dialogs
    step(f"disconnected alice from the page after the confirmation {b.dialogs[-1]!r}")
    b.wait("[...document.querySelectorAll('#events li')].some(l => l.textContent.includes('alice disconnected'))",
           what="the disconnect in the events list")
    step("the events list shows it")

    # Accounts: add dave with a group through the form, then lock him with his button.
    b.eval("document.querySelector('nav button[data-tab=accounts]').click(); true")
    b.wait("[...document.querySelectorAll('#accounts tbody tr')].some(r => r.dataset.user === 'alice')",
           what="the accounts table")
    b.eval("document.getElementById('acct-user').value = 'dave';"
           "document.getElementById('acct-password').value = 'dave pw 1';"
           "document.getElementById('acct-groups').value = 'staff';"
           "document.getElementById('account-form').requestSubmit(); true")
    dave = "[...document.querySelectorAll('#accounts tbody tr')].find(r => r.dataset.user === 'dave')"
    b.wait(f"{dave} && {dave}.textContent.includes('staff') && {dave}.textContent.includes('active')",
           what="dave in the accounts table")
    b.eval(f"[...{dave}.querySelectorAll('button')].find(x => x.textContent === 'Lock').click(); true")
    b.wait(f"{dave}.textContent.includes('locked')", what="dave locked")
    assert any("Lock dave" in d for d in b.dialogs), b.dialogs
    step("added dave (group staff) with the form and locked him with his button, each confirmed")
except Exception:
    try:
        print("dashboard: page state: tab %r, message %r, sessions %s" % (
            b.eval("JSON.stringify([...document.querySelectorAll('main section')].filter(s => !s.hidden).map(s => s.id))"),
            b.eval("document.getElementById('message').textContent"),
            b.eval("document.querySelector('#sessions tbody').innerHTML.slice(0, 3000)")), flush=True)
    except Exception as e:
        print(f"dashboard: no page state: {e}", flush=True)
    raise
finally:
    b.close()
