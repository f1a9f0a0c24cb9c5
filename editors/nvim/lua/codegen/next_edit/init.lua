--- Next-edit suggestions: after a pause in editing or moving (normal and insert mode),
--- or on demand (`:CodegenNextEdit`), asks the codegen server for the next edit near the
--- cursor (`textDocument/copilotInlineEdit`, Copilot's language-server shape) and shows
--- the first edit of the answer, wherever it is (codegen.next_edit.view). In normal mode
--- the accept key (`<Tab>`) first jumps to it, then applies it and asks for the next; the
--- dismiss key (`<Esc>`) hides it. Either key keeps its usual meaning when nothing is shown.
---
--- A newer request supersedes (and cancels) an older one, and an answer is used only if
--- it is for the buffer's version the request was sent with and that version is still
--- current. The acceptance events, in the server's shapes: `textDocument/didShowInlineEdit`
--- `{item}` once per edit put on screen, the edit's own command (`codegen.acceptInlineEdit`)
--- when it is applied, `codegen.rejectInlineEdit [id]` when it is dismissed. Editing
--- the buffer while a suggestion is shown replaces it with no event (it was ignored).

local edits = require("codegen.next_edit.edit")
local lsp = require("codegen.lsp")
local view = require("codegen.next_edit.view")

local M = {}

M.METHOD = "textDocument/copilotInlineEdit"
M.SHOWN = "textDocument/didShowInlineEdit"
M.REJECT_COMMAND = "codegen.rejectInlineEdit"

local uv = vim.uv or vim.loop

---@class codegen.NextEditState
---@field client_id integer
---@field opts codegen.NextEditConfig
---@field method string            the request (from the server's capability)
---@field shown_method string
---@field reject_command string
---@field timer uv.uv_timer_t
---@field seq integer              number of the latest request; older answers are dropped
---@field request_id integer?      the request in flight
---@field asked integer[]?         {version, row, col} of the latest request (not asked twice)
---@field dismissed integer?       the buffer version at the last dismissal (not asked again)
---@field edit codegen.NextEdit?   the suggestion on screen
---@field plan codegen.NextEditPlan?
---@field reported string?         id of the last edit reported shown

---@type table<integer, codegen.NextEditState>
local states = {}
local enabled = true

local function version_of(bufnr)
  return vim.lsp.util.buf_versions[bufnr]
end

local function client_of(s)
  return vim.lsp.get_client_by_id(s.client_id)
end

local function cursor_of(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  return win ~= -1 and vim.api.nvim_win_get_cursor(win) or { 0, -1 }
end

local function cursor_row(bufnr)
  return cursor_of(bufnr)[1] - 1
end

--- Whether the latest request was made at this version and cursor position.
local function asked_here(s, bufnr)
  local cursor = cursor_of(bufnr)
  return s.asked ~= nil and vim.deep_equal(s.asked, { version_of(bufnr), cursor[1], cursor[2] })
end

local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == "i"
end

--- The key named in the hint: the accept key, which works in normal mode.
local function hint_key(s)
  return s.opts.accept and (in_insert_mode() and (s.opts.accept .. " in normal mode") or s.opts.accept)
end

--- Stops the pending timer and the request in flight; answers still on the way are dropped.
local function cancel(s)
  s.timer:stop()
  s.seq = s.seq + 1
  local client = client_of(s)
  if s.request_id and client then
    lsp.cancel(client, s.request_id)
  end
  s.request_id = nil
end

--- Hides the suggestion of `bufnr`; a dismissal (`rejected`) is reported to the server.
local function clear(bufnr, rejected)
  local s = states[bufnr]
  if not s or not s.edit then
    return
  end
  local edit = s.edit
  s.edit, s.plan = nil, nil
  view.clear(bufnr)
  local id, client = edits.id(edit), client_of(s)
  if rejected and id and client and s.reported == id then
    lsp.run_command(client, { title = "codegen: next edit dismissed", command = s.reject_command, arguments = { id } },
      bufnr)
  end
end

--- The suggestion on screen in `bufnr`, if it still applies to the buffer.
---@param bufnr integer?
---@return codegen.NextEdit?, codegen.NextEditPlan?
function M.pending(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local s = states[bufnr]
  if not s or not s.edit then
    return nil, nil
  end
  if s.edit.textDocument.version ~= version_of(bufnr) then
    clear(bufnr, false)
    return nil, nil
  end
  return s.edit, s.plan
end

local function show(bufnr, edit)
  local s = states[bufnr]
  local client = client_of(s)
  if not client then
    return
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local plan = edits.plan(lines, edit, client.offset_encoding or "utf-16")
  if not plan then
    return
  end
  s.edit, s.plan = edit, plan
  view.show(bufnr, plan, cursor_row(bufnr), hint_key(s))
  local id = edits.id(edit)
  if id and s.reported ~= id then
    s.reported = id
    lsp.notify(client, s.shown_method, { item = edit })
  end
end

--- Asks for the next edit at the cursor of `bufnr` now, superseding any earlier request.
---@param bufnr integer?
function M.request(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local s = states[bufnr]
  local client = s and client_of(s)
  local win = vim.fn.bufwinid(bufnr)
  if not s or not client or not enabled or win == -1 then
    return
  end
  cancel(s)
  local encoding = client.offset_encoding or "utf-16"
  local params = vim.lsp.util.make_position_params(win, encoding)
  local version = version_of(bufnr)
  params.textDocument.version = version
  local seq, uri = s.seq, params.textDocument.uri
  local cursor = vim.api.nvim_win_get_cursor(win)
  s.asked = { version, cursor[1], cursor[2] }
  s.request_id = lsp.request(client, s.method, params, function(err, result)
    if states[bufnr] ~= s or s.seq ~= seq then
      return -- superseded, or the buffer is gone
    end
    s.request_id = nil
    -- The buffer may have changed while the server was thinking: only an answer for the
    -- version the request was sent with, still the buffer's, is shown.
    local current = version_of(bufnr)
    local edit = not err and current == version and edits.first_usable(result, uri, current) or nil
    if not edit then
      return
    end
    -- An inline completion on screen has the cursor's attention (and the insert-mode
    -- Tab); once it is gone, the next pause asks again.
    if require("codegen.inline").visible(bufnr) then
      s.asked = nil
      return
    end
    show(bufnr, edit)
  end, bufnr)
end

--- Asks after the pause, unless a suggestion is on screen for this version, the user
--- dismissed one at this version, or the latest request was made right here.
local function schedule(bufnr)
  local s = states[bufnr]
  if not s or not enabled or M.pending(bufnr) or version_of(bufnr) == s.dismissed or asked_here(s, bufnr) then
    return
  end
  s.timer:stop()
  s.timer:start(s.opts.debounce_ms, 0, vim.schedule_wrap(function()
    if states[bufnr] == s and vim.api.nvim_get_current_buf() == bufnr then
      M.request(bufnr)
    end
  end))
end

--- The accept key: with the cursor away from the suggested edit, jumps to its start;
--- at it, applies it, reports the accept (the edit's command) and asks for the next one.
--- False when no suggestion is shown. Safe in <expr> mappings (the work is scheduled).
---@param bufnr integer?
---@return boolean
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local edit, plan = M.pending(bufnr)
  if not edit or not plan then
    return false
  end
  local s = states[bufnr]
  vim.schedule(function()
    local win = vim.fn.bufwinid(bufnr)
    local client = client_of(s)
    if win == -1 or not client or s.edit ~= edit then
      return
    end
    if not edits.at(plan, cursor_row(bufnr)) then
      vim.api.nvim_win_set_cursor(win, { plan.row + 1, plan.col })
      view.hint(bufnr, plan, plan.row, hint_key(s))
      return
    end
    s.edit, s.plan = nil, nil
    view.clear(bufnr)
    vim.lsp.util.apply_text_edits({ { range = edit.range, newText = edit.text } }, bufnr,
      client.offset_encoding or "utf-16")
    vim.api.nvim_win_set_cursor(win, { plan.cursor[1] + 1, plan.cursor[2] })
    if edit.command then
      lsp.run_command(client, edit.command, bufnr)
    end
    M.request(bufnr)
  end)
  return true
end

--- The dismiss key: hides the suggestion (reported rejected); no new one is asked for
--- until the buffer changes. False when none is shown.
---@param bufnr integer?
---@return boolean
function M.dismiss(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not M.pending(bufnr) then
    return false
  end
  local s = states[bufnr]
  cancel(s)
  s.dismissed = version_of(bufnr)
  clear(bufnr, true)
  return true
end

--- Turns next-edit suggestions off (hiding any, with no event) or on in every buffer.
---@param on boolean
function M.set_enabled(on)
  enabled = on
  if not on then
    for bufnr, s in pairs(states) do
      cancel(s)
      s.asked = nil
      clear(bufnr, false)
    end
  end
end

---@param bufnr integer
---@return boolean
function M.attached(bufnr)
  return states[bufnr] ~= nil
end

local function detach(bufnr)
  local s = states[bufnr]
  if not s then
    return
  end
  cancel(s)
  clear(bufnr, false)
  s.timer:close()
  states[bufnr] = nil
  pcall(vim.api.nvim_del_augroup_by_name, "codegen.next_edit." .. bufnr)
end

--- A normal-mode key that acts on the suggestion, and keeps its own meaning without one.
local function map(bufnr, lhs, desc, action)
  if lhs then
    vim.keymap.set("n", lhs, function()
      if action(bufnr) then
        return ""
      end
      return vim.api.nvim_replace_termcodes(lhs, true, false, true)
    end, { buffer = bufnr, expr = true, desc = "codegen: " .. desc })
  end
end

--- Starts next-edit suggestions in `bufnr` for the client `client_id`, if its server
--- offers them (`capabilities.experimental.codegen.nextEdit`).
---@param bufnr integer
---@param client_id integer
---@param opts codegen.NextEditConfig
function M.attach(bufnr, client_id, opts)
  local client = vim.lsp.get_client_by_id(client_id)
  local experimental = client and client.server_capabilities.experimental
  local offered = type(experimental) == "table" and type(experimental.codegen) == "table"
    and experimental.codegen.nextEdit
  if not opts.enabled or type(offered) ~= "table" then
    return
  end
  detach(bufnr)
  states[bufnr] = {
    client_id = client_id,
    opts = opts,
    method = offered.method or M.METHOD,
    shown_method = offered.shown or M.SHOWN,
    reject_command = offered.reject or M.REJECT_COMMAND,
    timer = assert(uv.new_timer()),
    seq = 0,
  }
  local group = vim.api.nvim_create_augroup("codegen.next_edit." .. bufnr, { clear = true })
  local function on(events, callback)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = callback })
  end
  on({ "CursorMoved", "CursorMovedI", "InsertEnter", "InsertLeave" }, function()
    local _, plan = M.pending(bufnr)
    if plan then
      view.hint(bufnr, plan, cursor_row(bufnr), hint_key(states[bufnr]))
    else
      schedule(bufnr)
    end
  end)
  on({ "TextChanged", "TextChangedI" }, function()
    local s = states[bufnr]
    -- An accept's own edit, already asked about.
    if not s or (s.asked and s.asked[1] == version_of(bufnr)) then
      return
    end
    cancel(s)
    clear(bufnr, false)
    schedule(bufnr)
  end)
  on("BufLeave", function()
    local s = states[bufnr]
    if s then
      cancel(s)
      s.asked = nil
      clear(bufnr, false)
    end
  end)
  on("BufWipeout", function() detach(bufnr) end)
  on("LspDetach", function(args)
    if args.data and args.data.client_id == client_id then
      detach(bufnr)
    end
  end)
  map(bufnr, opts.accept, "jump to / apply the next edit", M.accept)
  map(bufnr, opts.dismiss, "dismiss the next edit", M.dismiss)
end

return M
