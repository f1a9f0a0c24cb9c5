--- How a next-edit suggestion looks (extmarks in the "codegen.next_edit" namespace): the
--- text it replaces struck through, the new text as virtual text after it (one line) or
--- as virtual lines below it (the lines it results in), a sign on its line, and at the
--- end of that line a hint naming the key that jumps to it or applies it.

local M = {}

M.namespace = vim.api.nvim_create_namespace("codegen.next_edit")

local SIGN = ">"

--- Default highlights (a colorscheme or the user may override them).
local function define_highlights()
  local delete = vim.api.nvim_get_hl(0, { name = "DiffDelete", link = false })
  vim.api.nvim_set_hl(0, "CodegenNextEditDelete", {
    default = true,
    strikethrough = true,
    fg = delete.fg,
    bg = delete.bg,
    ctermfg = delete.ctermfg,
    ctermbg = delete.ctermbg,
  })
  vim.api.nvim_set_hl(0, "CodegenNextEditInsert", { default = true, link = "DiffAdd" })
  vim.api.nvim_set_hl(0, "CodegenNextEditSign", { default = true, link = "DiagnosticHint" })
  vim.api.nvim_set_hl(0, "CodegenNextEditHint", { default = true, link = "Comment" })
end

define_highlights()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("codegen.next_edit.highlights", { clear = true }),
  callback = define_highlights,
})

--- The hint at the end of the edit's line: what `key` does with the cursor on `row`.
---@param plan codegen.NextEditPlan
---@param row integer
---@param key string|false
---@return string
function M.hint_text(plan, row, key)
  local action = require("codegen.next_edit.edit").at(plan, row) and "apply" or "jump to"
  return key and ("  %s: %s the next edit"):format(key, action) or "  next edit"
end

--- Shows `plan` in `bufnr`, replacing what was shown; `row` is the cursor's (0-based).
---@param bufnr integer
---@param plan codegen.NextEditPlan
---@param row integer
---@param key string|false  the accept key, named in the hint
function M.show(bufnr, plan, row, key)
  M.clear(bufnr)
  local ns = M.namespace
  if plan.end_row > plan.row or plan.end_col > plan.col then
    vim.api.nvim_buf_set_extmark(bufnr, ns, plan.row, plan.col, {
      end_row = plan.end_row,
      end_col = plan.end_col,
      hl_group = "CodegenNextEditDelete",
      priority = 250,
    })
  end
  if plan.inline then
    if plan.lines[1] ~= "" then
      vim.api.nvim_buf_set_extmark(bufnr, ns, plan.end_row, plan.end_col, {
        virt_text = { { plan.lines[1], "CodegenNextEditInsert" } },
        virt_text_pos = "inline",
        priority = 250,
      })
    end
  else
    local virt_lines = {}
    for _, line in ipairs(plan.result) do
      table.insert(virt_lines, { { line, "CodegenNextEditInsert" } })
    end
    vim.api.nvim_buf_set_extmark(bufnr, ns, plan.end_row, 0, { virt_lines = virt_lines })
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, plan.row, 0, {
    sign_text = SIGN,
    sign_hl_group = "CodegenNextEditSign",
  })
  M.hint(bufnr, plan, row, key)
end

local hints = {} ---@type table<integer, integer>

--- Updates the hint for the cursor on `row`.
---@param bufnr integer
---@param plan codegen.NextEditPlan
---@param row integer
---@param key string|false
function M.hint(bufnr, plan, row, key)
  hints[bufnr] = vim.api.nvim_buf_set_extmark(bufnr, M.namespace, plan.row, 0, {
    id = hints[bufnr],
    virt_text = { { M.hint_text(plan, row, key), "CodegenNextEditHint" } },
    virt_text_pos = "eol",
  })
end

--- Removes the suggestion from `bufnr`.
---@param bufnr integer
function M.clear(bufnr)
  hints[bufnr] = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.namespace, 0, -1)
  end
end

return M
