if vim.g.loaded_codegen then return end
vim.g.loaded_codegen = true
require("codegen").start()
