--- Neovim's own inline completion (vim.lsp.inline_completion, 0.12+) in codegen buffers,
--- with what it lacks for the acceptance log (codegen.events): it reports nothing, and
--- after a partial accept it would ask the server again, which answers with a new item.
---
--- So the codegen client's inline-completion requests are watched (its `request` method
--- is wrapped): the first item of an answer is what the built-in module shows, and after
--- a partial accept the next request, made at the cursor the accept left, is answered
--- here with the rest of the same item.

local events = require("codegen.events")
local lsp = require("codegen.lsp")
local text = require("codegen.text")

local M = {}

local METHOD = "textDocument/inlineCompletion"
local NAMESPACE = "nvim.lsp.inline_completion"

---@class codegen.NativeState
---@field items table[]     the answer on screen (LSP items), or {}
---@field index integer     the item shown
---@field tick integer      b:changedtick when it was shown
---@field cursor integer[]  the cursor then ({row, col}, as nvim_win_get_cursor)
---@field rest table?       after a partial accept: the rest of the item, answered to the next request

---@type table<integer, codegen.NativeState>
local states = {}
---@type table<integer, boolean>
local hooked = {}

local function cursor_of(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  return win ~= -1 and vim.api.nvim_win_get_cursor(win) or { 0, 0 }
end

--- Whether the built-in module has ghost text on screen in `bufnr`.
local function on_screen(bufnr)
  local ns = vim.api.nvim_get_namespaces()[NAMESPACE]
  return ns ~= nil and #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

local function unchanged(bufnr, s)
  return vim.b[bufnr].changedtick == s.tick and vim.deep_equal(cursor_of(bufnr), s.cursor)
end

--- The built-in module got `items` for `bufnr` and shows the first.
local function answered(bufnr, client_id, items)
  local s = states[bufnr]
  if not s then
    return
  end
  events.offer(bufnr, client_id, items)
  s.items, s.index, s.rest = items, 1, nil
  s.tick, s.cursor = vim.b[bufnr].changedtick, cursor_of(bufnr)
  if items[1] and on_screen(bufnr) then
    events.shown(bufnr, items[1])
  end
end

---@param client vim.lsp.Client
local function hook(client)
  if hooked[client.id] then
    return
  end
  hooked[client.id] = true
  local request = client.request
  ---@diagnostic disable-next-line: duplicate-set-field
  client.request = function(self, method, params, handler, bufnr)
    local buf = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
    local s = method == METHOD and handler and states[buf]
    if not s then
      return request(self, method, params, handler, bufnr)
    end
    if s.rest and unchanged(buf, s) and vim.fn.mode():match("^i") then
      local answer = { items = { s.rest } }
      local ctx = { method = method, client_id = self.id, bufnr = buf, params = params }
      vim.schedule(function() handler(nil, answer, ctx) end)
      return true, nil
    end
    s.rest = nil
    return request(self, method, params, function(err, result, ctx, cfg)
      handler(err, result, ctx, cfg)
      if not err and type(result) == "table" then
        answered(buf, self.id, result.items or result)
      end
    end, bufnr)
  end
end

--- The user dismissed what is on screen in `bufnr` (or left it).
local function dismissed(bufnr)
  events.dismissed(bufnr)
  local s = states[bufnr]
  if s then
    s.items, s.index, s.rest = {}, 1, nil
  end
end

--- Starts the built-in inline completion in `bufnr` for the client `client_id`.
---@param bufnr integer
---@param client_id integer
function M.attach(bufnr, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  if client then
    hook(client)
  end
  states[bufnr] = { items = {}, index = 1, tick = -1, cursor = { 0, 0 } }
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  local group = vim.api.nvim_create_augroup("codegen.native." .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function() dismissed(bufnr) end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      local s = states[bufnr]
      -- Moving away without typing dismisses; typing makes a new answer replace it.
      if s and #s.items > 0 and vim.b[bufnr].changedtick == s.tick and not unchanged(bufnr, s) then
        dismissed(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = bufnr,
    callback = function()
      states[bufnr] = nil
      events.forget(bufnr)
    end,
  })
end

---@param bufnr integer
---@return boolean
function M.attached(bufnr)
  return states[bufnr] ~= nil
end

--- Whether the built-in module has a suggestion on screen in `bufnr`.
---@param bufnr integer
---@return boolean
function M.visible(bufnr)
  return on_screen(bufnr)
end

--- Inserts the next word or line of the built-in module's `item` at the cursor; the
--- rest of it is what the next request gets (see `hook`).
---@param bufnr integer
---@param item vim.lsp.inline_completion.Item
---@param kind "word"|"line"
local function accept_part(bufnr, item, kind)
  local insert = type(item.insert_text) == "table" and item.insert_text.value or item.insert_text
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local typed, cover = "", 0
  if item.range and item.range.start.row == row - 1 then
    typed = vim.api.nvim_get_current_line():sub(item.range.start.col + 1, col)
  end
  if item.range and item.range.end_.row == row - 1 then
    cover = math.max(0, item.range.end_.col - col)
  end
  local piece = text.cut(text.remaining(insert, typed), kind)
  local prefix = text.accepted_prefix(insert, typed, piece)
  local rest = insert:sub(#prefix + 1)
  local lines = vim.split(piece, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row - 1, col, row - 1, col + (rest == "" and cover or 0), lines)
  local last_row, last_col = row + #lines - 1, (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row, last_col })
  events.took(bufnr, item, prefix)
  local s = states[bufnr]
  if not s then
    return
  end
  s.items, s.index, s.rest = {}, 1, nil
  if rest ~= "" then
    local client = vim.lsp.get_client_by_id(item.client_id)
    local encoding = client and client.offset_encoding or "utf-16"
    local range = lsp.range_at(bufnr, last_row - 1, last_col, cover, encoding)
    s.rest = { insertText = rest, range = range, command = item.command }
    s.items, s.tick, s.cursor = { s.rest }, vim.b[bufnr].changedtick, { last_row, last_col }
  end
end

--- Accepts `kind` of the suggestion on screen in `bufnr`; false if none. Safe in
--- <expr> mappings: the buffer changes after the mapping returns.
---@param bufnr integer
---@param kind "all"|"word"|"line"
---@return boolean
function M.accept(bufnr, kind)
  if kind ~= "all" then
    return vim.lsp.inline_completion.get({
      bufnr = bufnr,
      on_accept = function(item) accept_part(bufnr, item, kind) end,
    })
  end
  local s = states[bufnr]
  local item = s and s.items[s.index]
  -- The built-in accept replaces the item's range and runs its command (the accept event).
  local accepted = vim.lsp.inline_completion.get({ bufnr = bufnr })
  if accepted and s then
    if item then
      events.accepted(bufnr, item)
    end
    s.items, s.index, s.rest = {}, 1, nil
  end
  return accepted
end

--- Shows the next (`step` 1) or previous (-1) item of the answer.
---@param bufnr integer
---@param step integer
function M.cycle(bufnr, step)
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = step })
  local s = states[bufnr]
  -- The built-in module moves the same way (wrapping around) when it shows something.
  if s and #s.items > 1 and on_screen(bufnr) then
    s.index = (s.index - 1 + step) % #s.items + 1
    events.shown(bufnr, s.items[s.index])
  end
end

--- Hides the suggestion until the next edit, reporting it dismissed.
---@param bufnr integer
function M.dismiss(bufnr)
  -- The built-in module has no public "hide": turning it off clears it, and turning it
  -- back on makes the next keystroke ask again.
  vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  dismissed(bufnr)
end

--- Turns suggestions off or on in every buffer that uses the built-in module.
---@param enabled boolean
function M.set_enabled(enabled)
  for bufnr, s in pairs(states) do
    if vim.api.nvim_buf_is_valid(bufnr) then
      vim.lsp.inline_completion.enable(enabled, { bufnr = bufnr })
    end
    if not enabled then
      s.items, s.index, s.rest = {}, 1, nil
      events.forget(bufnr)
    end
  end
end

return M
