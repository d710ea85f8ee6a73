# procgroup labs
#
#   make                      build every lab program (labs/ and solutions/) into build/
#   make grade                grade your labs/ tree          LAB=NN   only one lab
#                             SUBMISSION=DIR  grade DIR (laid out like labs/)
#                             RESULTS=FILE    also write Gradescope's results.json to FILE
#                             VISIBILITY=V    with RESULTS: visible, hidden, after_due_date or after_published
#                             PRAIRIELEARN=FILE  also write PrairieLearn's external-grader results.json
#                             JUNIT=FILE      also write JUnit XML (a testcase per check) for CI
#                             AUTOLAB=1       end with Autolab's score line (exit 0 once graded)
#                             REPEAT=N        grade N times, report every check whose verdict changed
#   make grade-class SUBMISSIONS=DIR [OUT=DIR] [LAB=NN] [JOBS=N]
#                             grade a class (a folder, .tar.gz or .zip per student), JOBS at once
#                             (default: one per core): OUT/gradebook.csv, summary.txt, feedback/;
#                             run it again after an interruption to grade only what is left
#   make test                 the project's own test suite (what CI runs)
#   make tree [PID=N]         draw a session as session -> groups -> processes
#   make handout [HANDOUT=FILE]  the students' copy of the last commit, without solutions
#                             (default FILE: build/procgroup-labs.tar.gz; see grader/handout/build)
#   make autograder           build/autograder.zip for Gradescope (docs/platforms.md)
#                             LAB=NN  only these labs   VISIBILITY=V  when students see results
#                             ZIP=FILE  write it elsewhere
#   make deps                 find (or, as root, install) a Python with pytest and pexpect
#   make clean                remove build/

CFLAGS  := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -O2 -g
HELPER  := labs/common/checkpoint.c
HEADER  := labs/common/checkpoint.h
SOURCES := $(filter-out labs/common/%,$(wildcard labs/*/*.c solutions/*/*.c))
PROGRAMS := $(patsubst %.c,build/%,$(SOURCES))

# Every recipe that needs Python asks grader/find-python for it (it installs what is missing).
FIND_PYTHON := sh grader/find-python

HANDOUT ?= build/procgroup-labs.tar.gz

# The students' copy (make handout) leaves out the course staff's tools. There, their targets say so
# and point to make grade. Usage, as a recipe's first line: $(call staff_only,path the target needs)
staff_only = @test -e $(1) || { echo "make $@ is for the course staff: this students' copy has no $(1)."; \
	echo "To grade your labs: make grade   (one lab: make grade LAB=01)"; exit 2; } >&2

.PHONY: all grade grade-class test tree handout deps clean program helper-object

all: $(PROGRAMS)

build/%: %.c $(HELPER) $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilabs/common -o $@ $< $(HELPER)

# One program, from anywhere: the grader compiles submissions with this rule, so the flags
# above are the only ones. Usage: make program SRC=/abs/path/x.c OUT=/abs/path/x [HELPER_OBJ=h.o]
# With HELPER_OBJ (made by make helper-object OUT=h.o), the checkpoint helper is linked as that
# object instead of being compiled again: a grading compiles it once for all its programs.
program:
	@test -n "$(SRC)" -a -n "$(OUT)" || { echo "usage: make program SRC=file.c OUT=binary [HELPER_OBJ=h.o]" >&2; exit 2; }
	@mkdir -p $(dir $(OUT))
	$(CC) $(CFLAGS) -I$(CURDIR)/labs/common -o $(OUT) $(SRC) $(or $(HELPER_OBJ),$(CURDIR)/$(HELPER))

helper-object:
	@test -n "$(OUT)" || { echo "usage: make helper-object OUT=checkpoint.o" >&2; exit 2; }
	@mkdir -p $(dir $(OUT))
	$(CC) $(CFLAGS) -c -o $(OUT) $(CURDIR)/$(HELPER)

deps:
	@py=$$($(FIND_PYTHON)) && echo "Python with pytest and pexpect: $$py"

grade:
	@py=$$($(FIND_PYTHON)) && exec $$py -m grader \
		$(if $(LAB),--lab '$(LAB)') \
		$(if $(SUBMISSION),--submission '$(SUBMISSION)') \
		$(if $(VISIBILITY),--visibility '$(VISIBILITY)') \
		$(if $(PRAIRIELEARN),--prairielearn '$(PRAIRIELEARN)') \
		$(if $(JUNIT),--junit '$(JUNIT)') \
		$(if $(AUTOLAB),--autolab) \
		$(if $(RESULTS),--results '$(RESULTS)') \
		$(if $(REPEAT),--repeat '$(REPEAT)')

grade-class:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade-class SUBMISSIONS=DIR [OUT=DIR] [LAB=NN] [JOBS=N]" >&2; exit 2; }
	@py=$$($(FIND_PYTHON)) && exec $$py -m grader.batch '$(SUBMISSIONS)' '$(or $(OUT),build/class)' \
		$(foreach lab,$(LAB),--lab '$(lab)') $(if $(JOBS),--jobs '$(JOBS)')

test:
	$(call staff_only,grader/selftest)
	@py=$$($(FIND_PYTHON)) && exec $$py -m pytest grader/selftest -p no:cacheprovider -q -ra

tree:
	@py=$$($(FIND_PYTHON)) && exec $$py grader/pgtree $(PID)

handout:
	$(call staff_only,grader/handout)
	@sh grader/handout/build '$(HANDOUT)'

# Gradescope's autograder zip: setup.sh, run_autograder and autograder.conf at its root, then what the
# grader needs (the Makefile, labs/, grader/), without solutions/ and the grader's own tests.
.PHONY: autograder
autograder:
	$(call staff_only,grader/gradescope)
	@py=$$($(FIND_PYTHON)) && exec $$py -m grader.gradescope_zip '$(or $(ZIP),build/autograder.zip)' \
		$(if $(LAB),--lab '$(LAB)') \
		$(if $(VISIBILITY),--visibility '$(VISIBILITY)')

clean:
	rm -rf build
