--- Inline suggestions in a buffer: Neovim's own vim.lsp.inline_completion on 0.12+,
--- the extmark ghost text of codegen.ghost before; and the keys that act on them.

local config = require("codegen.config")
local ghost = require("codegen.ghost")
local text = require("codegen.text")

local M = {}

---@type table<integer, boolean>  buffers that use the native implementation
local native = {}

--- Starts inline suggestions in `bufnr` for the client `client_id`.
---@param bufnr integer
---@param client_id integer
---@param opts codegen.Config
function M.attach(bufnr, client_id, opts)
  if config.use_native(opts) then
    native[bufnr] = true
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  else
    ghost.attach(bufnr, client_id, opts.debounce_ms)
  end
  M.set_keymaps(bufnr, opts.keymaps)
end

--- Accepts `kind` of the suggestion on screen in the current buffer; false if none.
--- Safe in <expr> mappings: the buffer changes after the mapping returns.
---@param kind "all"|"word"|"line"
---@return boolean
function M.accept(kind)
  local bufnr = vim.api.nvim_get_current_buf()
  if not native[bufnr] then
    if not ghost.visible(bufnr) then
      return false
    end
    vim.schedule(function() ghost.accept(bufnr, kind) end)
    return true
  end
  if kind == "all" then
    return vim.lsp.inline_completion.get({ bufnr = bufnr })
  end
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function(item)
      local insert = type(item.insert_text) == "table" and item.insert_text.value or item.insert_text
      local row, col = unpack(vim.api.nvim_win_get_cursor(0))
      local typed = ""
      if item.range and item.range.start.row == row - 1 then
        typed = vim.api.nvim_get_current_line():sub(item.range.start.col + 1, col)
      end
      local piece = text.cut(text.remaining(insert, typed), kind)
      local lines = vim.split(piece, "\n", { plain = true })
      vim.api.nvim_buf_set_text(bufnr, row - 1, col, row - 1, col, lines)
      vim.api.nvim_win_set_cursor(0, { row + #lines - 1, (#lines == 1 and col or 0) + #lines[#lines] })
    end,
  })
end

--- Shows the next (`step` 1) or previous (-1) candidate.
---@param step integer
function M.cycle(step)
  local bufnr = vim.api.nvim_get_current_buf()
  if native[bufnr] then
    vim.lsp.inline_completion.select({ bufnr = bufnr, count = step })
  else
    ghost.cycle(bufnr, step)
  end
end

--- Hides the suggestion until the next edit.
function M.dismiss()
  local bufnr = vim.api.nvim_get_current_buf()
  if native[bufnr] then
    -- The built-in module has no public "hide": turning it off clears it, and
    -- turning it back on makes the next keystroke ask again.
    vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  else
    ghost.clear(bufnr)
  end
end

--- Turns suggestions off or on in every buffer; returns the new state.
---@param enabled boolean
function M.set_enabled(enabled)
  for bufnr in pairs(native) do
    if vim.api.nvim_buf_is_valid(bufnr) then
      vim.lsp.inline_completion.enable(enabled, { bufnr = bufnr })
    end
  end
  if not enabled then
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      ghost.clear(bufnr)
    end
  end
end

--- Buffer-local insert-mode keys; a key with no suggestion on screen keeps its usual meaning.
---@param bufnr integer
---@param keys codegen.Keymaps
function M.set_keymaps(bufnr, keys)
  local function map(lhs, desc, action)
    if lhs then
      vim.keymap.set("i", lhs, function()
        if action() then
          return ""
        end
        return vim.api.nvim_replace_termcodes(lhs, true, false, true)
      end, { buffer = bufnr, expr = true, desc = "codegen: " .. desc })
    end
  end
  map(keys.accept, "accept suggestion", function() return M.accept("all") end)
  map(keys.accept_word, "accept next word", function() return M.accept("word") end)
  map(keys.accept_line, "accept line", function() return M.accept("line") end)
  local function map_plain(lhs, desc, fn)
    if lhs then
      vim.keymap.set("i", lhs, fn, { buffer = bufnr, desc = "codegen: " .. desc })
    end
  end
  map_plain(keys.next, "next suggestion", function() M.cycle(1) end)
  map_plain(keys.prev, "previous suggestion", function() M.cycle(-1) end)
  map_plain(keys.dismiss, "dismiss suggestion", M.dismiss)
end

return M
