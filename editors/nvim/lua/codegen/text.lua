--- Pure string helpers for accepting part of a suggestion.

local M = {}

--- The part of a suggestion still to insert: `suggestion` starts at the item's
--- range start, `typed` is the buffer text from there to the cursor.
---@param suggestion string
---@param typed string
---@return string
function M.remaining(suggestion, typed)
  if typed ~= "" and suggestion:sub(1, #typed) == typed then
    return suggestion:sub(#typed + 1)
  end
  return suggestion
end

--- The next word of `text`: leading blanks (and newlines) plus one run of word
--- characters (letters, digits, "_" and any non-ASCII character), or one run of punctuation.
---@param text string
---@return string
function M.next_word(text)
  return text:match("^%s*[%w_\128-\255]+") or text:match("^%s*[^%w_%s\128-\255]+") or text
end

--- The rest of the current line of `text`; when `text` starts with a line
--- break, the break and the whole next line.
---@param text string
---@return string
function M.next_line(text)
  local first = text:match("^[^\n]*")
  if first ~= "" then
    return first
  end
  return text:match("^\n[^\n]*") or text
end

--- Cuts `text` for an accept of `kind` ("all", "word" or "line").
---@param text string
---@param kind "all"|"word"|"line"
---@return string
function M.cut(text, kind)
  if kind == "word" then
    return M.next_word(text)
  elseif kind == "line" then
    return M.next_line(text)
  end
  return text
end

--- The prefix of `suggestion` that is in the buffer once `piece` (a cut of what
--- `remaining(suggestion, typed)` left) is inserted at the cursor.
---@param suggestion string
---@param typed string
---@param piece string
---@return string
function M.accepted_prefix(suggestion, typed, piece)
  local matched = typed ~= "" and suggestion:sub(1, #typed) == typed and typed or ""
  return matched .. piece
end

--- Length of `s` in UTF-16 code units (how LSP clients such as Copilot's count).
---@param s string
---@return integer
function M.utf16_len(s)
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_utfindex(s, "utf-16", nil, false)
  end
  ---@diagnostic disable-next-line: missing-parameter
  local _, units = vim.str_utfindex(s)
  return units
end

return M
