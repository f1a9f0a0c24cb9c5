-- Unit tests of the plugin's pure Lua modules: nvim --clean --headless -l unit_spec.lua PLUGIN_DIR
vim.opt.runtimepath:prepend(assert(_G.arg[1], "usage: unit_spec.lua PLUGIN_DIR"))

local passed = 0
local function case(name, fn)
  local ok, err = pcall(fn)
  if not ok then
    io.stderr:write(("FAIL %s: %s\n"):format(name, err))
    os.exit(1)
  end
  passed = passed + 1
end

local text = require("codegen.text")
local config = require("codegen.config")

case("remaining drops what was typed", function()
  assert(text.remaining("return 42", "ret") == "urn 42")
  assert(text.remaining("urn 42", "") == "urn 42")
  assert(text.remaining("return 42", "x") == "return 42")
end)

case("next word keeps leading blanks, stops at punctuation", function()
  assert(text.next_word("urn 42") == "urn")
  assert(text.next_word(" 42)") == " 42")
  assert(text.next_word("(x)") == "(")
  assert(text.next_word("\n    pass") == "\n    pass")
  assert(text.next_word("naïve = 1") == "naïve")
  assert(text.next_word(" '😀'") == " '")
end)

case("accepted prefix and its UTF-16 length", function()
  assert(text.accepted_prefix("return 42", "ret", "urn") == "return")
  assert(text.accepted_prefix("return 42", "x", "return") == "return")
  assert(text.accepted_prefix("a = 1", "", "a") == "a")
  assert(text.utf16_len("naïve") == 5 and text.utf16_len("'😀'") == 4 and text.utf16_len("") == 0)
end)

case("events know an item by its accept command", function()
  local events = require("codegen.events")
  local command = { title = "t", command = "codegen.acceptCompletion", arguments = { "abc" } }
  assert(events.id({ insertText = "x", command = command }) == "abc")
  assert(events.id({ insertText = "x" }) == nil)
  assert(events.id({ command = { command = "other", arguments = { "abc" } } }) == nil)
  assert(events.insert_text({ insertText = { kind = "snippet", value = "f($1)" } }) == "f($1)")
end)

case("next line stops at the line break", function()
  assert(text.next_line("a = 1\nb = 2") == "a = 1")
  assert(text.next_line("\n    b = 2\nc") == "\n    b = 2")
  assert(text.cut("x y\nz", "all") == "x y\nz")
end)

case("merge keeps defaults, replaces invalid values and warns", function()
  local merged, warnings = config.merge({ quantize = "3bit", model = "/m", keymaps = { accept = false } })
  assert(merged.quantize == "none" and merged.model == "/m" and #warnings == 1)
  assert(merged.keymaps.accept == false and merged.keymaps.next == "<M-]>")
  local _, type_warnings = config.merge({ filetypes = "python" })
  assert(#type_warnings == 1)
end)

case("server command and settings", function()
  local c = config.merge({ python = "/venv/bin/python", server_args = { "--log-level", "INFO" } })
  assert(vim.deep_equal(config.cmd(c), { "/venv/bin/python", "-m", "codegen.server.cli", "--stdio", "--log-level", "INFO" }))
  assert(config.cmd(config.merge({}))[1] == "codegen-lsp")
  local s = config.server_settings(config.merge({ adapter = "/a", completion = { maxNewTokens = 8 } }))
  assert(s.model.adapter == "/a" and s.model.model == "builtin:tiny" and s.completion.maxNewTokens == 8)
  assert(vim.json.encode(config.server_settings(config.merge({}))):find('"completion":{}', 1, true))
  assert(config.server_settings(config.merge({})).acceptanceLog == nil)
  local logged = config.server_settings(config.merge({ acceptance_log = { enabled = true, path = "/l.jsonl" } }))
  assert(logged.acceptanceLog.enabled == true and logged.acceptanceLog.path == "/l.jsonl")
end)

case("traceback frames become quickfix items, innermost first", function()
  local items = require("codegen.commands").traceback_items({
    exception = "ZeroDivisionError: division by zero",
    frames = {
      { uri = "file:///w/main.py", line = 9, ["function"] = "<module>", fix = false },
      { uri = "file:///w/lib.py", line = 2, ["function"] = "ratio", fix = true },
    },
  })
  assert(#items == 2 and items[1].filename == "/w/lib.py" and items[1].lnum == 3, vim.inspect(items))
  assert(items[1].text == "in ratio: ZeroDivisionError: division by zero  [fix: code action]", items[1].text)
  assert(items[2].lnum == 10)
  assert(#require("codegen.commands").traceback_items({}) == 0)
end)

case("next edit: only an answer for the document and version in the buffer is used", function()
  local edit = require("codegen.next_edit.edit")
  local uri = "file:///w/geo.py"
  local e = {
    range = { start = { line = 1, character = 11 }, ["end"] = { line = 1, character = 15 } },
    text = "",
    textDocument = { uri = uri, version = 7 },
    command = { title = "t", command = "codegen.acceptInlineEdit", arguments = { "n1" } },
  }
  assert(edit.first_usable({ edits = { e } }, uri, 7) == e)
  assert(edit.first_usable({ edits = { e } }, uri, 8) == nil)
  assert(edit.first_usable({ edits = { e } }, "file:///w/other.py", 7) == nil)
  assert(edit.first_usable({ edits = {} }, uri, 7) == nil)
  assert(edit.first_usable(nil, uri, 7) == nil and edit.first_usable({ edits = { {} } }, uri, 7) == nil)
  assert(edit.id(e) == "n1" and edit.id({ range = e.range, text = "" }) == nil)
end)

case("next edit: where it goes, what it shows, where the cursor ends", function()
  local edit = require("codegen.next_edit.edit")
  local function range(sl, sc, el, ec)
    return { start = { line = sl, character = sc }, ["end"] = { line = el, character = ec } }
  end
  local lines = { "def area(w, height):", "    check(width)", "    return width * height" }
  local p = assert(edit.plan(lines, { range = range(1, 11, 1, 15), text = "" }, "utf-16"))
  assert(p.row == 1 and p.col == 11 and p.end_row == 1 and p.end_col == 15 and p.inline)
  assert(vim.deep_equal(p.result, { "    check(w)" }) and vim.deep_equal(p.cursor, { 1, 11 }))
  assert(edit.at(p, 1) and not edit.at(p, 0) and not edit.at(p, 2))
  -- UTF-16 columns after a non-ASCII character are converted to bytes.
  local u = assert(edit.plan({ "naïve = wïdth" }, { range = range(0, 8, 0, 13), text = "w" }, "utf-16"))
  assert(u.col == 9 and u.end_col == 15 and vim.deep_equal(u.result, { "naïve = w" }), vim.inspect(u))
  -- A multi-line result is shown as the lines it makes; the cursor ends after the new text.
  local m = assert(edit.plan(lines, { range = range(1, 4, 1, 16), text = "if w:\n        check(w)" }, "utf-16"))
  assert(not m.inline and vim.deep_equal(m.result, { "    if w:", "        check(w)" }))
  assert(vim.deep_equal(m.cursor, { 2, 16 }))
  local joined = assert(edit.plan(lines, { range = range(0, 20, 1, 4), text = " " }, "utf-16"))
  assert(not joined.inline and vim.deep_equal(joined.result, { "def area(w, height): check(width)" }))
  assert(edit.plan(lines, { range = range(5, 0, 5, 0), text = "x" }, "utf-16") == nil)
end)

case("next_edit options: defaults, invalid values replaced, server options sent", function()
  local merged, warnings = config.merge({ next_edit = { accept = false, debounce_ms = "soon" } })
  assert(merged.next_edit.accept == false and merged.next_edit.dismiss == "<Esc>")
  assert(merged.next_edit.debounce_ms == 300 and #warnings == 1, vim.inspect(warnings))
  assert(config.server_settings(merged).nextEdit == nil)
  local s = config.server_settings(config.merge({ next_edit = { options = { linesAfter = 8 } } }))
  assert(s.nextEdit.linesAfter == 8)
end)

io.stderr:write(vim.json.encode({ passed = passed }) .. "\n")
