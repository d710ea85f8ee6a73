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
#   make grade-class SUBMISSIONS=DIR [OUT=DIR] [LAB=NN] [JOBS=N]
#                             grade a class (a folder, .tar.gz or .zip per student), JOBS at once
#                             (default: one per core): OUT/gradebook.csv, summary.txt, feedback/;
#                             run it again after an interruption to grade only what is left
#   make test                 the project's own test suite (what CI runs)
#   make tree [PID=N]         draw a session as session -> groups -> processes
#   make handout              build/procgroup-labs.tar.gz: the tree for students, without solutions
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

.PHONY: all grade grade-class test tree handout deps clean program

all: $(PROGRAMS)

build/%: %.c $(HELPER) $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilabs/common -o $@ $< $(HELPER)

# One program, from anywhere: the grader compiles submissions with this rule, so the flags
# above are the only ones. Usage: make program SRC=/abs/path/x.c OUT=/abs/path/x
program:
	@test -n "$(SRC)" -a -n "$(OUT)" || { echo "usage: make program SRC=file.c OUT=binary" >&2; exit 2; }
	@mkdir -p $(dir $(OUT))
	$(CC) $(CFLAGS) -I$(CURDIR)/labs/common -o $(OUT) $(SRC) $(CURDIR)/$(HELPER)

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
		$(if $(RESULTS),--results '$(RESULTS)')

grade-class:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade-class SUBMISSIONS=DIR [OUT=DIR] [LAB=NN] [JOBS=N]" >&2; exit 2; }
	@py=$$($(FIND_PYTHON)) && exec $$py -m grader.batch '$(SUBMISSIONS)' '$(or $(OUT),build/class)' \
		$(foreach lab,$(LAB),--lab '$(lab)') $(if $(JOBS),--jobs '$(JOBS)')

test:
	@py=$$($(FIND_PYTHON)) && exec $$py -m pytest grader/selftest -p no:cacheprovider -q -ra

tree:
	@py=$$($(FIND_PYTHON)) && exec $$py grader/pgtree $(PID)

handout:
	@mkdir -p build
	git archive --format=tar.gz --prefix=procgroup-labs/ -o build/procgroup-labs.tar.gz HEAD \
		README.md Makefile labs grader docs ':!grader/mutants' ':!grader/selftest' ':!grader/stress' \
		':!docs/instructor-guide.md'
	@echo "build/procgroup-labs.tar.gz: labs/, the grader and the docs, without solutions or mutants"

# Gradescope's autograder zip: setup.sh, run_autograder and autograder.conf at its root, then what the
# grader needs (the Makefile, labs/, grader/), without solutions/ and the grader's own tests.
.PHONY: autograder
autograder:
	@py=$$($(FIND_PYTHON)) && exec $$py -m grader.gradescope_zip '$(or $(ZIP),build/autograder.zip)' \
		$(if $(LAB),--lab '$(LAB)') \
		$(if $(VISIBILITY),--visibility '$(VISIBILITY)')

clean:
	rm -rf build
