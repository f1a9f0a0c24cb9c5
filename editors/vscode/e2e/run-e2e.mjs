// End-to-end test of the extension in a real VS Code: code-server in headless Chromium.
//
//   node run-e2e.mjs CONFIG.json
//
// CONFIG (written by tests/editors/test_editors_vscode.py):
//   codeServer   path of the code-server executable
//   toolsDir     folder whose node_modules holds playwright-core
//   chromium     browser executable (Debian's /usr/bin/chromium)
//   vsix         the packaged extension
//   workspace    folder to open (its .vscode/settings.json points at the server)
//   stateDir     scratch folder for code-server's user data and extensions
//   file         file to open first, relative to the workspace
//   steps        what to do once the server is ready, in order:
//                  {"open": FILE}              open another file of the workspace
//                  {"settings": {...}}         add these to the workspace settings; a model
//                                              change restarts the server: wait with "ready"
//                  {"ready": true}             wait until the server restarted and is ready
//                  {"type": TEXT}              type TEXT (40 ms between keys)
//                  {"press": KEY}              press a key (Playwright key names)
//                  {"ghost": "shown"|"hidden"} wait until ghost text is on screen / gone (the
//                                              first ghost text shown is returned as ghostText)
//                  {"struck": TEXT|null, "line": LINE}  wait until TEXT is the text shown
//                                              struck through (a next edit's replaced text),
//                                              on the line LINE if given / until none is
//                  {"hint": TEXT}              wait until a decoration after a line shows TEXT
//                  {"cursor": "Ln L, Col C"}   wait until the status bar shows this position
//                  {"screenshot": PATH}        save a screenshot
//   expect       {FILE: CONTENT}: what the files hold once the steps are done and the
//                file in the editor was saved
//   timeoutMs    how long to wait for each step
//   settleMs     pause between "server ready" and typing (default 500)
//
// Prints one JSON line ({"ok": true, ...} or {"ok": false, "error": ...}); exit code 0 or 1.
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { chromium } = createRequire(path.join(config.toolsDir, "package.json"))("playwright-core");
const timeout = config.timeoutMs ?? 60000;
const steps = [];
const started = Date.now();
const step = (name) => steps.push({ name, atMs: Date.now() - started });

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer at ${url} within ${ms} ms`);
}

function writeUserSettings(userDataDir) {
  const settings = {
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "extensions.ignoreRecommendations": true,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "chat.disableAIFeatures": true,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "editor.inlineSuggest.enabled": true,
    // Only ghost text may react to typing and to Tab.
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "editor.wordBasedSuggestions": "off",
    "editor.parameterHints.enabled": false,
    "files.autoSave": "off",
  };
  fs.mkdirSync(path.join(userDataDir, "User"), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

// Installed in the page (page.evaluate): what the steps read from the editor's DOM.
function installReaders() {
  const clean = (t) => (t ?? "").replace(/\u00a0/g, " ");
  const spans = () => [...document.querySelectorAll(".monaco-editor .view-lines span")];
  window.codegenE2E = {
    // Monaco renders ghost text as token spans with non-breaking spaces.
    ghost() {
      const inline = [...document.querySelectorAll(".monaco-editor .ghost-text-decoration")];
      const parts = inline.length ? inline : [...document.querySelectorAll(".monaco-editor .ghost-text")];
      return clean(parts.map((el) => el.textContent).join(""));
    },
    // The text shown struck through (a next edit's replaced text), and the line it is on.
    struck() {
      const found = spans().filter(
        (el) => !el.children.length && getComputedStyle(el).textDecorationLine.includes("line-through"),
      );
      return {
        text: clean(found.map((el) => el.textContent).join("")),
        line: clean(found[0]?.closest(".view-line")?.textContent),
      };
    },
    // Whether a line shows `text`, in its own text or in a decoration after it.
    shows(text) {
      return spans().some(
        (el) => clean(el.textContent).includes(text) || clean(getComputedStyle(el, "::after").content).includes(text),
      );
    },
  };
}

async function main() {
  const userDataDir = path.join(config.stateDir, "user-data");
  const extensionsDir = path.join(config.stateDir, "extensions");
  writeUserSettings(userDataDir);
  const dirs = ["--user-data-dir", userDataDir, "--extensions-dir", extensionsDir];
  execFileSync(config.codeServer, [...dirs, "--install-extension", config.vsix, "--force"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  step("extension installed");

  const port = await freePort();
  const codeServer = spawn(
    config.codeServer,
    [
      ...dirs,
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      config.workspace,
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let serverLog = "";
  codeServer.stdout.on("data", (d) => (serverLog += d));
  codeServer.stderr.on("data", (d) => (serverLog += d));
  let browser;
  let page;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, timeout);
    step("code-server up");
    browser = await chromium.launch({ executablePath: config.chromium, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 560 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(config.workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout });
    await page.evaluate(installReaders);
    step("workbench shown");

    const open = async (file) => {
      await page.keyboard.press("Control+P");
      await page.waitForSelector(".quick-input-widget input", { timeout });
      await page.keyboard.type(file);
      // Click the file's row: until the list is filtered, the first row may be a recent file.
      const name = path.basename(file);
      await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().click({ timeout });
      await page.waitForSelector(`.tab.active[data-resource-name="${name}"]`, { timeout });
      const editor = page.locator(".editor-instance .monaco-editor .view-lines").first();
      await editor.waitFor({ timeout });
      await editor.click();
      await page.keyboard.press("Control+End");
    };
    await open(config.file);
    step("file open");

    // The status bar item shows that the extension activated, and when the model is ready.
    const status = page.locator('[id="codegen.codegen.codegen.status"]');
    await status.waitFor({ timeout });
    // Ready shows the sparkle icon; an error icon means the server did not start.
    const STATUS_ICON = '[id="codegen.codegen.codegen.status"] :is(.codicon-sparkle, .codicon-error)';
    const ready = async () => {
      await page.waitForSelector(STATUS_ICON, { timeout });
      if (await status.locator(".codicon-error").count()) {
        throw new Error(`the server did not start: ${await status.getAttribute("aria-label")}`);
      }
    };
    await ready();
    step("server ready");

    // The provider registration reaches the editor shortly after the server is up.
    await page.waitForTimeout(config.settleMs ?? 500);
    const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();
    let ghostText;
    const struckSeen = [];
    const settingsFile = path.join(config.workspace, ".vscode", "settings.json");
    for (const s of config.steps ?? []) {
      if (s.open) await open(s.open);
      if (s.settings) {
        const current = JSON.parse(fs.readFileSync(settingsFile, "utf8"));
        fs.writeFileSync(settingsFile, JSON.stringify({ ...current, ...s.settings }, null, 2));
      }
      if (s.ready) {
        // The restart takes the ready icon away (the server starts, then loads its model).
        await page.waitForSelector(STATUS_ICON, { state: "detached", timeout }).catch(async (err) => {
          throw new Error(`the server did not restart: ${await status.getAttribute("aria-label")} (${err})`);
        });
        await ready();
        await page.waitForTimeout(config.settleMs ?? 500);
      }
      if (s.type !== undefined) await page.keyboard.type(s.type, { delay: 40 });
      if (s.press) await page.keyboard.press(s.press);
      if (s.ghost) {
        await ghost.waitFor({ state: s.ghost === "shown" ? "visible" : "hidden", timeout });
        if (s.ghost === "shown" && ghostText === undefined) ghostText = await page.evaluate(() => window.codegenE2E.ghost());
      }
      if (s.struck !== undefined) {
        const want = { text: s.struck ?? "", line: s.line };
        const found = await page.waitForFunction(
          (w) => {
            const got = window.codegenE2E.struck();
            return got.text === w.text && (w.line === undefined || w.line === null || got.line === w.line) && got;
          },
          want,
          { timeout },
        ).catch(async (err) => {
          const got = await page.evaluate(() => window.codegenE2E.struck());
          throw new Error(`struck through: ${JSON.stringify(got)}, not ${JSON.stringify(want)} (${err})`);
        });
        struckSeen.push(await found.jsonValue()); // as it was when it matched
      }
      if (s.hint) {
        await page.waitForFunction((want) => window.codegenE2E.shows(want), s.hint, { timeout });
      }
      if (s.cursor) {
        const position = page.locator('[id="status.editor.selection"]');
        await page.waitForFunction(
          (want) => document.querySelector('[id="status.editor.selection"]')?.textContent.includes(want),
          s.cursor, { timeout },
        ).catch(async (err) => {
          throw new Error(`cursor not at ${s.cursor}: ${await position.innerText().catch(() => "?")} (${err})`);
        });
      }
      if (s.screenshot) {
        fs.mkdirSync(path.dirname(s.screenshot), { recursive: true });
        await page.screenshot({ path: s.screenshot });
      }
      step(JSON.stringify(s));
    }

    await page.keyboard.press("Control+S");
    const deadline = Date.now() + timeout;
    const contents = () =>
      Object.fromEntries(Object.keys(config.expect).map((f) => [f, fs.readFileSync(path.join(config.workspace, f), "utf8")]));
    let content = contents();
    const same = () => Object.entries(config.expect).every(([f, want]) => content[f] === want);
    while (!same() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      content = contents();
    }
    step("saved");
    const statusText = (await status.innerText()).trim();
    const ok = same();
    const error = ok ? {} : { error: "unexpected file content" };
    console.log(JSON.stringify({ ok, content, ghostText, struck: struckSeen, statusText, steps, ...error }));
    return ok;
  } catch (err) {
    if (page) await page.screenshot({ path: path.join(config.stateDir, "failure.png") }).catch(() => {});
    console.log(JSON.stringify({ ok: false, error: String(err), steps, codeServerLog: serverLog.slice(-4000) }));
    return false;
  } finally {
    await browser?.close().catch(() => {});
    try {
      process.kill(-codeServer.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

process.exitCode = (await main()) ? 0 : 1;
