--- Ghost text with extmarks, for Neovim 0.10 and 0.11 (0.12+ uses the built-in
--- vim.lsp.inline_completion unless `inline = "fallback"`). Asks for
--- textDocument/inlineCompletion after a pause in typing and shows the answer after the
--- cursor; after a partial accept the rest of the same item stays on screen. Reports
--- what happens to each item through codegen.events.

local events = require("codegen.events")
local lsp = require("codegen.lsp")
local text = require("codegen.text")

local M = {}

local ns = vim.api.nvim_create_namespace("codegen.ghost")

---@class codegen.GhostState
---@field client_id integer
---@field debounce_ms integer
---@field timer uv.uv_timer_t?
---@field request_id integer?
---@field items table[]
---@field index integer
---@field row integer      0-based cursor row the items were asked for
---@field col integer      0-based byte column of the cursor
---@field tick integer     b:changedtick the items were asked for

---@type table<integer, codegen.GhostState>
local states = {}

local item_text = events.insert_text

local function encoding_of(s)
  local client = vim.lsp.get_client_by_id(s.client_id)
  return client and client.offset_encoding or "utf-16"
end

--- The text between the item's range start and the cursor (what the user already typed).
local function typed_part(bufnr, item, row, col, encoding)
  local range = item.range
  if not range or range.start.line ~= row then
    return ""
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local start = lsp.byte_index(line, range.start.character, encoding)
  return line:sub(start + 1, col)
end

--- What the current item would insert at the cursor.
---@param bufnr integer
---@return string?
local function current_remaining(bufnr)
  local s = states[bufnr]
  local item = s and s.items[s.index]
  if not item then
    return nil
  end
  return text.remaining(item_text(item), typed_part(bufnr, item, s.row, s.col, encoding_of(s)))
end

--- Bytes after the cursor that the item's range replaces (its end on the cursor's line).
local function cover_bytes(bufnr, item, row, col, encoding)
  local range = item.range
  if not range or range["end"].line ~= row then
    return 0
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  return math.max(0, lsp.byte_index(line, range["end"].character, encoding) - col)
end

local function hide(bufnr)
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local s = states[bufnr]
  if s then
    s.items, s.index = {}, 1
  end
end

--- Hides the suggestion: replaced by a new answer, or accepted (no event).
---@param bufnr integer
function M.clear(bufnr)
  hide(bufnr)
  events.forget(bufnr)
end

--- Hides the suggestion because the user dismissed it (reported to the server).
---@param bufnr integer
function M.dismiss(bufnr)
  events.dismissed(bufnr)
  hide(bufnr)
end

local function render(bufnr)
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local s = states[bufnr]
  local rest = current_remaining(bufnr)
  if not rest or rest == "" then
    return
  end
  local lines = vim.split(rest, "\n", { plain = true })
  local hint = #s.items > 1 and (" (%d/%d)"):format(s.index, #s.items) or nil
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], "ComplHint" } }
  end
  local last = #virt_lines > 0 and virt_lines[#virt_lines] or nil
  local first = { { lines[1], "ComplHint" } }
  if hint then
    table.insert(last or first, { hint, "ComplHintMore" })
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, s.row, s.col, {
    virt_text = first,
    virt_text_pos = "inline",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
  })
  events.shown(bufnr, s.items[s.index])
end

local function request(bufnr)
  local s = states[bufnr]
  local client = s and vim.lsp.get_client_by_id(s.client_id)
  if not client or vim.api.nvim_get_current_buf() ~= bufnr or not vim.fn.mode():match("^i") then
    return
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col, tick = cursor[1] - 1, cursor[2], vim.b[bufnr].changedtick
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = 2 } -- Automatic
  if s.request_id then
    lsp.cancel(client, s.request_id)
  end
  s.request_id = lsp.request(client, "textDocument/inlineCompletion", params, function(err, result)
    s.request_id = nil
    -- Drop answers for a buffer or cursor that has moved on.
    if err or not result or vim.b[bufnr].changedtick ~= tick then
      return
    end
    local now = vim.api.nvim_win_get_cursor(0)
    if now[1] - 1 ~= row or now[2] ~= col then
      return
    end
    s.items, s.index, s.row, s.col, s.tick = result.items or result, 1, row, col, tick
    events.offer(bufnr, s.client_id, s.items)
    render(bufnr)
  end, bufnr)
end

local function schedule_request(bufnr)
  local s = states[bufnr]
  M.clear(bufnr)
  if s.timer then
    s.timer:stop()
  else
    s.timer = assert(vim.uv.new_timer())
  end
  s.timer:start(s.debounce_ms, 0, vim.schedule_wrap(function()
    request(bufnr)
  end))
end

--- Starts showing suggestions in `bufnr` from the client `client_id`.
---@param bufnr integer
---@param client_id integer
---@param debounce_ms integer
function M.attach(bufnr, client_id, debounce_ms)
  if states[bufnr] then
    return
  end
  states[bufnr] = { client_id = client_id, debounce_ms = debounce_ms, items = {}, index = 1, row = 0, col = 0, tick = 0 }
  local group = vim.api.nvim_create_augroup("codegen.ghost." .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChangedI", "InsertEnter" }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      local s = states[bufnr]
      -- A partial accept's own edit: the rest of the item stays on screen.
      if args.event == "TextChangedI" and #s.items > 0 and vim.b[bufnr].changedtick == s.tick then
        return
      end
      schedule_request(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      local s = states[bufnr]
      local cursor = vim.api.nvim_win_get_cursor(0)
      -- Moving away without typing dismisses; typing asks again (TextChangedI).
      if M.visible(bufnr) and (cursor[1] - 1 ~= s.row or cursor[2] ~= s.col) then
        M.dismiss(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function() M.dismiss(bufnr) end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = bufnr,
    callback = function()
      local s = states[bufnr]
      if s and s.timer then
        s.timer:close()
      end
      states[bufnr] = nil
      events.forget(bufnr)
    end,
  })
end

--- True when a suggestion is on screen in `bufnr`.
---@param bufnr integer
---@return boolean
function M.visible(bufnr)
  local rest = current_remaining(bufnr)
  return rest ~= nil and rest ~= "" and vim.b[bufnr].changedtick == states[bufnr].tick
end

--- The suggestion text on screen (what accepting it all would insert), or nil.
---@param bufnr integer
---@return string?
function M.shown(bufnr)
  return M.visible(bufnr) and current_remaining(bufnr) or nil
end

--- Inserts all, the next word or the rest of the line of the suggestion at the cursor.
--- After a partial accept the rest of the same item stays on screen; the whole of it
--- (at once or piece by piece) replaces the text its range covers and runs its command.
---@param bufnr integer
---@param kind "all"|"word"|"line"
function M.accept(bufnr, kind)
  if not M.visible(bufnr) then
    return
  end
  local s = states[bufnr]
  local item, encoding = s.items[s.index], encoding_of(s)
  local insert = item_text(item)
  local typed = typed_part(bufnr, item, s.row, s.col, encoding)
  local piece = text.cut(text.remaining(insert, typed), kind)
  local prefix = text.accepted_prefix(insert, typed, piece)
  local rest = insert:sub(#prefix + 1)
  local cover = cover_bytes(bufnr, item, s.row, s.col, encoding)
  local lines = vim.split(piece, "\n", { plain = true })
  hide(bufnr)
  vim.api.nvim_buf_set_text(bufnr, s.row, s.col, s.row, s.col + (rest == "" and cover or 0), lines)
  local last_row = s.row + #lines - 1
  local last_col = (#lines == 1 and s.col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, last_col })
  events.took(bufnr, item, prefix)
  if rest ~= "" then
    local range = lsp.range_at(bufnr, last_row, last_col, cover, encoding)
    s.items = { { insertText = rest, range = range, command = item.command } }
    s.index, s.row, s.col, s.tick = 1, last_row, last_col, vim.b[bufnr].changedtick
    render(bufnr)
  end
end

--- Shows the candidate `step` places further (wrapping around).
---@param bufnr integer
---@param step integer
function M.cycle(bufnr, step)
  local s = states[bufnr]
  if not s or #s.items < 2 then
    return
  end
  s.index = (s.index - 1 + step) % #s.items + 1
  render(bufnr)
end

return M
